import type { IncomingMessage } from "node:http";

/**
 * Browsers always send Origin on WebSocket upgrades and cross-site POSTs; a
 * request from a page of another site must not act with our cookie. Requests
 * without Origin come from non-browser clients (tests, integrations), which
 * cannot be tricked into sending someone else's cookie.
 */
export function isOriginAllowed(req: Pick<IncomingMessage, "headers">, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return allowedOrigins.includes(origin);
}

const SAME_ORIGIN_FETCH_SITES = new Set(["same-origin", "none"]);

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * For a GET that acts with the cookie and has effects (the data export: limited,
 * audited, a file saved). The session cookie is SameSite=Lax, so a top-level
 * navigation from any site (a link, a redirect) carries it: such a GET must come
 * from our own pages. `Sec-Fetch-Site` (sent by every current browser) decides when
 * present: only `same-origin`, or `none` (typed into the address bar, a bookmark).
 * Without it, `Origin` (as `isOriginAllowed` checks it) and `Referer`, each when
 * sent, must be allowed origins. A request with none of the three is not a
 * browser's (curl with a cookie) and passes, as for `isOriginAllowed`.
 */
export function isSameOriginRequest(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined) return typeof site === "string" && SAME_ORIGIN_FETCH_SITES.has(site);
  if (!isOriginAllowed(req, allowedOrigins)) return false;
  const referer = req.headers.referer;
  if (referer === undefined) return true;
  const origin = originOf(referer);
  return origin !== null && allowedOrigins.includes(origin);
}
