import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

/**
 * The id that ties a request's log lines together: the caller's (or a proxy's)
 * X-Request-Id when it is a sane token, a new UUID otherwise. Written back onto
 * the request so every layer that reads it sees the same id.
 */
export function ensureRequestId(req: IncomingMessage): string {
  const incoming = req.headers["x-request-id"];
  const id = typeof incoming === "string" && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
  req.headers["x-request-id"] = id;
  return id;
}
