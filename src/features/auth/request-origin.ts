import type { IncomingHttpHeaders } from "node:http";

/**
 * The caller's address. Next.js and any reverse proxy append to
 * X-Forwarded-For, so the last entry is the one written by a hop we run; entries
 * further left are whatever the client claimed.
 */
export function clientAddress(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  socketAddress: string | null | undefined,
): string | null {
  const forwarded = headers["x-forwarded-for"];
  const value = Array.isArray(forwarded) ? forwarded.join(",") : forwarded;
  const last = value
    ?.split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .pop();
  return last ?? socketAddress ?? null;
}
