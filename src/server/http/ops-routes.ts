import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { loadSessionUser } from "~/features/auth/auth.service";
import type { SessionUser } from "~/features/auth/contracts";
import { exportFileName, exportUserData } from "~/features/ops/export";
import type { StatusReporter } from "~/features/ops/status";
import { PERMISSIONS, type PermissionKey } from "~/features/permissions/catalog";
import { readSession } from "~/server/auth-session";
import type { Db } from "~/server/db/client";
import { metrics } from "~/server/metrics";

// The operations endpoints outside tRPC: Prometheus metrics, the messaging status
// and the signed-in user's data export as a file. The session is the same
// next-auth cookie tRPC reads (decoded locally, user and permissions loaded).

export const METRICS_PATH = "/api/metrics";
export const STATUS_PATH = "/api/messaging/status";
export const EXPORT_PATH = "/api/export";

export interface OpsRouteDeps {
  prisma: Db;
  status: StatusReporter;
  metricsToken: string | undefined;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("cache-control", "no-store");
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(JSON.stringify(body));
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * With METRICS_TOKEN: `Authorization: Bearer <token>` from anywhere. Without it:
 * only a loopback peer whose request no proxy relayed (a proxy on the same host
 * would otherwise expose the metrics to the world).
 */
function metricsAllowed(req: IncomingMessage, relayed: boolean, token: string | undefined): 200 | 401 | 403 {
  if (token) {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
    return match && sameSecret(match[1]!.trim(), token) ? 200 : 401;
  }
  return !relayed && LOOPBACK.has(req.socket.remoteAddress ?? "") ? 200 : 403;
}

async function signedInUser(req: IncomingMessage, prisma: Db, permission: PermissionKey): Promise<SessionUser | 401 | 403> {
  const session = await readSession(req);
  if (!session || (session.expiresAt && session.expiresAt.getTime() <= Date.now())) return 401;
  const user = await loadSessionUser(prisma, session.userId);
  if (!user) return 401;
  return user.permissions.includes(permission) ? user : 403;
}

function refuse(res: ServerResponse, outcome: 401 | 403, permission?: string) {
  if (outcome === 401) return send(res, 401, { error: "Sign in to continue." });
  return send(res, 403, { error: permission ? `You need the "${permission}" permission for this.` : "Forbidden" });
}

/** Serves the request if its path is one of ours; false otherwise. `relayed`: it came with X-Forwarded-For or Forwarded. */
export async function handleOpsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  relayed: boolean,
  deps: OpsRouteDeps,
): Promise<boolean> {
  if (pathname !== METRICS_PATH && pathname !== STATUS_PATH && pathname !== EXPORT_PATH) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(res, 405, { error: "Method not allowed" }, { allow: "GET, HEAD" });
    return true;
  }
  if (pathname === METRICS_PATH) {
    const allowed = metricsAllowed(req, relayed, deps.metricsToken);
    if (allowed === 401) send(res, 401, { error: "A bearer token is required." }, { "www-authenticate": 'Bearer realm="metrics"' });
    else if (allowed === 403) send(res, 403, { error: "Metrics are served on loopback only; set METRICS_TOKEN to scrape from elsewhere." });
    else {
      const { registry } = metrics();
      res.statusCode = 200;
      res.setHeader("content-type", registry.contentType);
      res.setHeader("cache-control", "no-store");
      res.end(await registry.metrics());
    }
    return true;
  }
  if (pathname === STATUS_PATH) {
    const user = await signedInUser(req, deps.prisma, PERMISSIONS.messagingAdmin);
    if (typeof user === "number") refuse(res, user, PERMISSIONS.messagingAdmin);
    else send(res, 200, await deps.status.read());
    return true;
  }
  const user = await signedInUser(req, deps.prisma, PERMISSIONS.messagingAccess);
  if (typeof user === "number") {
    refuse(res, user, PERMISSIONS.messagingAccess);
    return true;
  }
  const data = await exportUserData(deps.prisma, user.id);
  send(res, 200, data, { "content-disposition": `attachment; filename="${exportFileName(data.exportedAt)}"` });
  return true;
}
