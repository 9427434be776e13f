// Transport constants shared by the browser client, server.ts and Node clients
// (tests, benchmarks).

export const TRPC_HTTP_PATH = "/api/trpc";
export const TRPC_WS_PATH = "/api/trpc-ws";

/** Exponential backoff with full jitter, 0.5 s doubling up to 30 s. */
export function reconnectDelayMs(attempt: number): number {
  const ceiling = Math.min(30_000, 500 * 2 ** attempt);
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/**
 * Which calls travel on the WebSocket: subscriptions, and presence reports, which
 * describe that connection's screen (the conversation on it), so the server
 * must receive them on that connection.
 */
export function goesOverWebSocket(op: { type: string; path: string }): boolean {
  return op.type === "subscription" || op.path === "presence.set";
}
