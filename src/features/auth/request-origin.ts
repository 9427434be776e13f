import type { IncomingHttpHeaders } from "node:http";

/**
 * The caller's address. Each reverse proxy in front of us appends the address it
 * saw to X-Forwarded-For, and the peer of our socket is the last hop; everything
 * further left than the proxies we run is whatever the client claimed. So with
 * `trustedHops` proxies, the caller is the entry that many places from the end of
 * [...X-Forwarded-For, socket address]; with none, it is the socket's peer.
 */
export function resolveClientAddress(
  forwardedFor: string | string[] | undefined,
  socketAddress: string | null | undefined,
  trustedHops: number,
): string | null {
  const joined = Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? "");
  const chain = [
    ...joined
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean),
    ...(socketAddress ? [socketAddress] : []),
  ];
  if (chain.length === 0) return null;
  return chain[Math.max(0, chain.length - 1 - trustedHops)] ?? null;
}

/**
 * The caller's address as the server resolved it: app-server.ts replaces
 * X-Forwarded-For with that single address before any handler (tRPC, Next.js,
 * next-auth) sees the request.
 */
export function clientAddress(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): string | null {
  const value = headers["x-forwarded-for"];
  const first = (Array.isArray(value) ? value[0] : value)?.trim();
  return first ? first : null;
}
