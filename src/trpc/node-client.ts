import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink, type TRPCClient } from "@trpc/client";
import superjson from "superjson";
import WebSocket from "ws";
import type { AppRouter } from "~/server/trpc/root";
import { goesOverWebSocket, TRPC_HTTP_PATH, TRPC_WS_PATH, reconnectDelayMs } from "./shared";

// A typed tRPC client for Node (integration tests, benchmarks, scripts): HTTP for
// queries and mutations, WebSocket for subscriptions, authenticated by a session
// cookie the caller obtained (sign-in or a minted token).

export interface NodeClientOptions {
  /** A function is asked again at every reconnect (tests use it as a load balancer). */
  baseUrl: string | (() => string);
  cookie?: string;
  /** Sent as Origin on the upgrade and on HTTP requests, as a browser would. */
  origin?: string;
  /** Any other headers for the upgrade and HTTP requests (X-Forwarded-For behind a proxy, ...). */
  headers?: Record<string, string>;
  retryDelayMs?: (attempt: number) => number;
}

export interface NodeTrpcClient {
  api: TRPCClient<AppRouter>;
  wsClient: ReturnType<typeof createWSClient>;
  close(): Promise<void>;
}

export function createNodeTrpcClient(options: NodeClientOptions): NodeTrpcClient {
  const headers: Record<string, string> = { ...options.headers };
  if (options.cookie) headers.cookie = options.cookie;
  if (options.origin) headers.origin = options.origin;
  const baseUrl = typeof options.baseUrl === "function" ? options.baseUrl : () => options.baseUrl as string;
  const wsUrl = () => `${baseUrl().replace(/^http/, "ws")}${TRPC_WS_PATH}`;

  // ws (unlike a browser) lets us set the upgrade request's headers.
  class HeaderWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }

  const wsClient = createWSClient({
    url: wsUrl,
    WebSocket: HeaderWebSocket as unknown as typeof globalThis.WebSocket,
    retryDelayMs: options.retryDelayMs ?? reconnectDelayMs,
  });
  const api = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: goesOverWebSocket,
        true: wsLink({ client: wsClient, transformer: superjson }),
        false: httpBatchLink({ url: `${baseUrl()}${TRPC_HTTP_PATH}`, transformer: superjson, headers }),
      }),
    ],
  });
  return { api, wsClient, close: () => wsClient.close() };
}
