import type { IncomingMessage } from "node:http";

/**
 * Browsers always send Origin on WebSocket upgrades and cross-site POSTs; a
 * request from a page of another site must not act with our cookie. Requests
 * without Origin come from non-browser clients (tests, integrations), which
 * cannot be tricked into sending someone else's cookie.
 */
export function isOriginAllowed(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return allowedOrigins.includes(origin);
}
