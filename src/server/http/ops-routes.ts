import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { SessionUser } from "~/features/auth/contracts";
import { clientAddress } from "~/features/auth/request-origin";
import { exportFileName, findExportSubject, recordUserExport, writeUserExport, type ExportSubject } from "~/features/ops/export";
import type { StatusReporter } from "~/features/ops/status";
import { PERMISSIONS } from "~/features/permissions/catalog";
import { signedInUser } from "~/server/auth-session";
import type { Db } from "~/server/db/client";
import { logger } from "~/server/logger";
import { metrics } from "~/server/metrics";
import { rateLimitConfig, retryIn, takeExport } from "~/server/rate-limits";
import { isSameOriginRequest } from "./origin";

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
  /** The app's own origin and ALLOWED_ORIGINS: where a download may be started from (see isSameOriginRequest). */
  allowedOrigins: readonly string[];
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
    await serveExport(req, res, deps);
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

/** Without a drain for this long (the client takes nothing), an export is cut (EXPORT_STALL_TIMEOUT_SECONDS). */
const DEFAULT_EXPORT_STALL_TIMEOUT_MS = 30_000;

export interface ExportStreamConfig {
  /** How long a started export waits for the client to take what was sent before it destroys the response. */
  stallTimeoutMs: number;
}

let exportStreamSettings: ExportStreamConfig = { stallTimeoutMs: DEFAULT_EXPORT_STALL_TIMEOUT_MS };

/** Sets this process's export streaming (anything not given takes its default); app-server.ts at start, tests to shorten it. */
export function configureExportStreams(config: Partial<ExportStreamConfig>): void {
  exportStreamSettings = { stallTimeoutMs: DEFAULT_EXPORT_STALL_TIMEOUT_MS, ...config };
}

export function exportStreamConfig(): ExportStreamConfig {
  return exportStreamSettings;
}

/** Export requests this process is serving, from their arrival until the handler returns. */
let exportRequestsInFlight = 0;
/** Downloading users with an export under way in this process: one at a time each. */
const exportingUsers = new Set<string>();

/** How many /api/export requests this process is still handling (tests check that none is left hanging). */
export function runningExports(): number {
  return exportRequestsInFlight;
}

type WaitOutcome = "done" | "gone" | "stalled";

/**
 * Waits for `event` ("drain": the socket took the buffered bytes; "finish": the
 * last of them went to the operating system), for the client to go away (`gone`,
 * aborted on 'close'), or `stallMs` without either, whichever comes first. Never
 * waits on an event alone: a destroyed response never emits "drain".
 */
function socketProgress(res: ServerResponse, event: "drain" | "finish", gone: AbortSignal, stallMs: number): Promise<WaitOutcome> {
  return new Promise((resolve) => {
    const settle = (outcome: WaitOutcome) => {
      clearTimeout(timer);
      res.off(event, onEvent);
      gone.removeEventListener("abort", onGone);
      resolve(outcome);
    };
    const onEvent = () => settle("done");
    const onGone = () => settle("gone");
    const timer = setTimeout(() => settle("stalled"), stallMs);
    res.once(event, onEvent);
    gone.addEventListener("abort", onGone, { once: true });
    if (gone.aborted || res.destroyed) settle("gone");
  });
}

/**
 * GET /api/export: the signed-in user's data (messaging:access). With
 * `?userId=<uuid>`: that person's account, conversations and own messages for a
 * messaging:admin, recorded in the audit log (`user.exported`) before it is sent.
 * Refused from other sites (a link elsewhere must not spend an admin's export).
 * One export per downloading user per window (429 with Retry-After past it), and
 * one under way per user in this process (429). The document is streamed page by
 * page; a client that goes away (at any point, also before the first byte) stops
 * the handler, and one that takes nothing for `stallTimeoutMs` is cut off.
 */
async function serveExport(req: IncomingMessage, res: ServerResponse, deps: OpsRouteDeps): Promise<void> {
  exportRequestsInFlight += 1;
  // First thing, before any await: 'close' fires once, possibly while the session is
  // still being read, and a write to a closed response never drains.
  const gone = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) gone.abort();
  };
  res.on("close", onClose);
  if (res.destroyed) gone.abort();
  try {
    await exportResponse(req, res, deps, gone);
  } finally {
    res.off("close", onClose);
    exportRequestsInFlight -= 1;
  }
}

async function exportResponse(
  req: IncomingMessage,
  res: ServerResponse,
  { prisma, allowedOrigins }: OpsRouteDeps,
  gone: AbortController,
): Promise<void> {
  // Each GET reads the whole history: HEAD would cost as much for nothing.
  if (req.method !== "GET") return send(res, 405, { error: "Method not allowed" }, { allow: "GET" });
  if (!isSameOriginRequest(req, allowedOrigins)) {
    return send(res, 403, { error: "Cross-site requests are not allowed: start the download from Chatline's own pages." });
  }
  const left = () => gone.signal.aborted || res.destroyed;
  const requested = new URL(req.url ?? "/", "http://internal").searchParams.get("userId");
  const permission = requested === null ? PERMISSIONS.messagingAccess : PERMISSIONS.messagingAdmin;
  const user = await signedInUser(req, prisma, permission);
  if (left()) return;
  if (typeof user === "number") return refuse(res, user, permission);
  if (requested !== null && !targetUserId.safeParse(requested).success) {
    return send(res, 400, { error: "userId must be a user's id (a UUID)." });
  }
  const subject = requested === null ? await findExportSubject(prisma, user.id) : await findExportSubject(prisma, requested);
  if (left()) return;
  if (!subject) return send(res, 404, { error: "That user does not exist." });

  // One at a time per downloading user, claimed before the next await: a second
  // request (a double click, a script) would read the whole history once more.
  if (exportingUsers.has(user.id)) {
    return send(res, 429, { error: "Your previous export is still being downloaded. Wait for it to finish, then try again." });
  }
  exportingUsers.add(user.id);
  try {
    await streamExport(req, res, prisma, user, requested, subject, gone);
  } finally {
    exportingUsers.delete(user.id);
  }
}

async function streamExport(
  req: IncomingMessage,
  res: ServerResponse,
  prisma: Db,
  user: SessionUser,
  requested: string | null,
  subject: ExportSubject,
  gone: AbortController,
): Promise<void> {
  const left = () => gone.signal.aborted || res.destroyed;
  const retryAfterMs = await takeExport(user.id);
  if (left()) return;
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
    if (left()) return;
  }

  const now = new Date();
  const { stallTimeoutMs } = exportStreamConfig();
  res.statusCode = 200;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("cache-control", "no-store");
  res.setHeader("content-disposition", `attachment; filename="${exportFileName(now, asAdmin ? subject.email : undefined)}"`);
  /** Waits until the socket took what was written; cuts a client that takes nothing for stallTimeoutMs. */
  const progress = async (event: "drain" | "finish") => {
    const outcome = await socketProgress(res, event, gone.signal, stallTimeoutMs);
    if (outcome === "stalled") {
      logger.warn({ userId: user.id, subjectId: subject.id, stallTimeoutMs }, "data export cut off: the client stopped reading");
      gone.abort();
      res.destroy();
    }
  };
  try {
    await writeUserExport(
      prisma,
      subject,
      async (chunk) => {
        if (res.destroyed) gone.abort();
        gone.signal.throwIfAborted();
        // Backpressure: the next page is read only once the socket took this one.
        if (!res.write(chunk)) await progress("drain");
        gone.signal.throwIfAborted();
      },
      { includeOthers: !asAdmin, signal: gone.signal, now },
    );
    res.end();
    // Done once the last bytes went out (the per-user slot is held until then): a
    // client that stops reading just before the end is cut like any other.
    if (!res.writableFinished) await progress("finish");
  } catch (error) {
    if (gone.signal.aborted) return;
    // Headers are gone: the caller destroys the response, so the client sees a failed download, not a cut file.
    throw error;
  }
}
