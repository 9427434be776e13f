import { createHash, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { loadSessionUser } from "~/features/auth/auth.service";
import type { SessionUser } from "~/features/auth/contracts";
import { clientAddress } from "~/features/auth/request-origin";
import { exportFileName, findExportSubject, recordUserExport, writeUserExport } from "~/features/ops/export";
import type { StatusReporter } from "~/features/ops/status";
import { PERMISSIONS, type PermissionKey } from "~/features/permissions/catalog";
import { readSession } from "~/server/auth-session";
import type { Db } from "~/server/db/client";
import { metrics } from "~/server/metrics";
import { rateLimitConfig, retryIn, takeExport } from "~/server/rate-limits";

// The operations endpoints outside tRPC: Prometheus metrics, the messaging status
// and the data export as a file (your own, or with ?userId= someone else's for a
// messaging:admin). The session is the same next-auth cookie tRPC reads (decoded
// locally, user and permissions loaded).

export const METRICS_PATH = "/api/metrics";
export const STATUS_PATH = "/api/messaging/status";
export const EXPORT_PATH = "/api/export";

export interface OpsRouteDeps {
  prisma: Db;
  status: StatusReporter;
  metricsToken: string | undefined;
  /**
   * Whether, without a token, loopback callers get the metrics. Off in production:
   * a proxy or sidecar on the same host that adds no X-Forwarded-For would look
   * like loopback and expose them.
   */
  metricsOnLoopback: boolean;
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
 * With METRICS_TOKEN: `Authorization: Bearer <token>` from anywhere. Without it,
 * outside production: only a loopback peer whose request no proxy relayed (a proxy
 * on the same host would otherwise expose the metrics to the world); in
 * production: nobody.
 */
function metricsAllowed(
  req: IncomingMessage,
  relayed: boolean,
  { metricsToken, metricsOnLoopback }: Pick<OpsRouteDeps, "metricsToken" | "metricsOnLoopback">,
): 200 | 401 | 403 {
  if (metricsToken) {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
    return match && sameSecret(match[1]!.trim(), metricsToken) ? 200 : 401;
  }
  return metricsOnLoopback && !relayed && LOOPBACK.has(req.socket.remoteAddress ?? "") ? 200 : 403;
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
  if (pathname === EXPORT_PATH) {
    await serveExport(req, res, deps.prisma);
    return true;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(res, 405, { error: "Method not allowed" }, { allow: "GET, HEAD" });
    return true;
  }
  if (pathname === METRICS_PATH) {
    const allowed = metricsAllowed(req, relayed, deps);
    if (allowed === 401) send(res, 401, { error: "A bearer token is required." }, { "www-authenticate": 'Bearer realm="metrics"' });
    else if (allowed === 403) {
      send(res, 403, {
        error: deps.metricsOnLoopback
          ? "Metrics are served on loopback only; set METRICS_TOKEN to scrape from elsewhere."
          : "Metrics need METRICS_TOKEN in production.",
      });
    }
    else {
      const { registry } = metrics();
      res.statusCode = 200;
      res.setHeader("content-type", registry.contentType);
      res.setHeader("cache-control", "no-store");
      res.end(await registry.metrics());
    }
    return true;
  }
  // STATUS_PATH
  const user = await signedInUser(req, deps.prisma, PERMISSIONS.messagingAdmin);
  if (typeof user === "number") refuse(res, user, PERMISSIONS.messagingAdmin);
  else send(res, 200, await deps.status.read());
  return true;
}

const targetUserId = z.uuid();

/**
 * GET /api/export: the signed-in user's data (messaging:access). With
 * `?userId=<uuid>`: that person's account, conversations and own messages for a
 * messaging:admin, recorded in the audit log (`user.exported`) before it is sent.
 * One export per downloading user per window (429 with Retry-After past it).
 * The document is streamed page by page; a client that goes away stops the reading.
 */
async function serveExport(req: IncomingMessage, res: ServerResponse, prisma: Db): Promise<void> {
  // Each GET reads the whole history: HEAD would cost as much for nothing.
  if (req.method !== "GET") return send(res, 405, { error: "Method not allowed" }, { allow: "GET" });
  const requested = new URL(req.url ?? "/", "http://internal").searchParams.get("userId");
  const permission = requested === null ? PERMISSIONS.messagingAccess : PERMISSIONS.messagingAdmin;
  const user = await signedInUser(req, prisma, permission);
  if (typeof user === "number") return refuse(res, user, permission);
  if (requested !== null && !targetUserId.safeParse(requested).success) {
    return send(res, 400, { error: "userId must be a user's id (a UUID)." });
  }
  const subject = requested === null ? await findExportSubject(prisma, user.id) : await findExportSubject(prisma, requested);
  if (!subject) return send(res, 404, { error: "That user does not exist." });

  const retryAfterMs = await takeExport(user.id);
  if (retryAfterMs > 0) {
    return send(
      res,
      429,
      {
        error: `You can download one export every ${rateLimitConfig().exportWindowSeconds} s. Try again in ${retryIn(retryAfterMs)}.`,
        retryAfterMs,
      },
      { "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
    );
  }
  const asAdmin = requested !== null;
  if (asAdmin) {
    await recordUserExport(prisma, { userId: user.id, ip: clientAddress(req.headers), userAgent: req.headers["user-agent"] ?? null }, subject.id);
  }

  const now = new Date();
  res.statusCode = 200;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("cache-control", "no-store");
  res.setHeader("content-disposition", `attachment; filename="${exportFileName(now, asAdmin ? subject.email : undefined)}"`);
  // The client going away (closed tab, cancelled download) ends the reading.
  const gone = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) gone.abort();
  };
  res.on("close", onClose);
  try {
    await writeUserExport(
      prisma,
      subject,
      async (chunk) => {
        gone.signal.throwIfAborted();
        // Backpressure: the next page is read only once the socket took this one.
        if (!res.write(chunk)) await once(res, "drain", { signal: gone.signal });
      },
      { includeOthers: !asAdmin, signal: gone.signal, now },
    );
    res.end();
  } catch (error) {
    if (gone.signal.aborted) return;
    // Headers are gone: the caller destroys the response, so the client sees a failed download, not a cut file.
    throw error;
  } finally {
    res.off("close", onClose);
  }
}
