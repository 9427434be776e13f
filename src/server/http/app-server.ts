import type { Agent as HttpsAgent } from "node:https";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { nodeHTTPRequestHandler } from "@trpc/server/adapters/node-http";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { WebSocketServer } from "ws";
import { DEMO_PASSWORD, DEMO_USERS } from "~/features/auth/demo-users";
import { resolveClientAddress } from "~/features/auth/request-origin";
import { checkHealth } from "~/features/health/health.service";
import { resolveAuthSecret } from "~/server/auth-secret";
import { createDatabase, setDatabase, type Database } from "~/server/db/client";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "~/server/db/embedded";
import { applyMigrations } from "~/server/db/migrations";
import { bootstrapDatabase, demoUsersWanted } from "~/server/db/seed";
import type { Env } from "~/server/env";
import { instanceId } from "~/server/instance";
import { logger } from "~/server/logger";
import { setSocketCounter } from "~/server/metrics";
import { closeMessagingRuntime, configureMessagingRuntime, startedMessagingRuntime } from "~/features/events/runtime";
import { startNotifications } from "~/features/notifications/runtime";
import { configureAttachments, createAttachmentStorage } from "~/features/attachments/runtime";
import { scheduleRetention } from "~/features/ops/retention";
import { startStatusReporter } from "~/features/ops/status";
import { followAccessChanges } from "~/features/roles/access-changes";
import { followSettingsChanges } from "~/features/settings/settings-sync";
import { startRealtime } from "~/server/realtime";
import { configureRateLimits, guardSocketFrames } from "~/server/rate-limits";
import { closeRedis, configureRedis, getRedis } from "~/server/redis";
import { createContext } from "~/server/trpc/context";
import { appRouter } from "~/server/trpc/root";
import { TRPC_HTTP_PATH, TRPC_WS_PATH } from "~/trpc/shared";
import { configureExportStreams, handleOpsRequest } from "./ops-routes";
import { isOriginAllowed } from "./origin";
import { ensureRequestId } from "./request-id";
import { oauthImageHosts, securityHeaders } from "./security-headers";

// One HTTP server for everything: tRPC over HTTP, tRPC subscriptions over
// WebSocket, the health check, and Next.js for pages and next-auth. One upgrade
// dispatcher decides who gets each WebSocket.

/** Frames larger than this are refused by ws before they are parsed. */
export const WS_MAX_PAYLOAD_BYTES = 64 * 1024;
/** The largest tRPC HTTP request body. */
const HTTP_MAX_BODY_BYTES = 256 * 1024;

export interface AppServerOptions {
  env: Env;
  /** Serve pages through Next.js (off in integration tests of the API). */
  next: boolean;
  dev: boolean;
  /** The TLS agent pushes go through (tests: one that trusts their fake push service). */
  pushAgent?: HttpsAgent;
}

export interface AppServer {
  url: string;
  port: number;
  database: Database;
  embedded: boolean;
  httpServer: Server;
  wss: WebSocketServer;
  /** Graceful: stop accepting, ask clients to reconnect elsewhere, close sockets, close the database. */
  close(): Promise<void>;
}

type NodeUpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void | Promise<void>;

interface NextHandlers {
  handleRequest: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  handleUpgrade: NodeUpgradeHandler | null;
  close: () => Promise<void>;
}

async function prepareNext(options: { dev: boolean; port: number; hostname: string }): Promise<NextHandlers> {
  const { default: next } = await import("next");
  // Next attaches its own upgrade listener to `httpServer` on the first request.
  // Handing it an emitter that never fires keeps our dispatcher the only one.
  const upgradeSink = new EventEmitter() as unknown as Server;
  const app = next({ dev: options.dev, dir: process.cwd(), port: options.port, hostname: options.hostname, httpServer: upgradeSink });
  await app.prepare();
  const handleRequest = app.getRequestHandler();
  let closed: Promise<void> | undefined;
  // The router-level upgrade handler is the one that serves hot reload;
  // getUpgradeHandler() reaches only the page server's, which ignores upgrades.
  const routerUpgrade = (app as unknown as { upgradeHandler?: NodeUpgradeHandler }).upgradeHandler;
  return {
    handleRequest: (req, res) => handleRequest(req, res),
    handleUpgrade: options.dev && typeof routerUpgrade === "function" ? routerUpgrade : null,
    close: () => (closed ??= app.close()),
  };
}

function refuseUpgrade(socket: Duplex, status: 400 | 403 | 404 | 503, reason: string) {
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}

/** A banner for the person who just started the app (not a log line: the logger redacts passwords). */
function printDemoUsers(url: string) {
  const lines = [
    `Chatline is running at ${url}`,
    `Demo users (password for all: ${DEMO_PASSWORD}):`,
    ...DEMO_USERS.map((user) => `  ${user.email.padEnd(20)} ${user.name.padEnd(12)} ${user.roles.join(", ")}`),
  ];
  process.stdout.write(`\n${lines.join("\n")}\n\n`);
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("cache-control", "no-store");
  res.end(JSON.stringify(body));
}

/** Resources acquired so far, released in reverse order on shutdown or on a failed start. */
class CleanupStack {
  private readonly steps: { name: string; run: () => Promise<unknown> }[] = [];

  push(name: string, run: () => Promise<unknown>) {
    this.steps.push({ name, run });
  }

  async runAll(log: typeof logger) {
    for (const step of this.steps.splice(0).reverse()) {
      await step.run().catch((error: unknown) => log.warn({ err: error, step: step.name }, "cleanup step failed"));
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startAppServer(options: AppServerOptions): Promise<AppServer> {
  const log = logger.child({ instanceId });
  const cleanups = new CleanupStack();
  try {
    return await start(options, log, cleanups);
  } catch (error) {
    await cleanups.runAll(log);
    throw error;
  }
}

async function start(options: AppServerOptions, log: typeof logger, cleanups: CleanupStack): Promise<AppServer> {
  const { env } = options;
  let embedded: EmbeddedPostgres | undefined;
  let connectionString = env.DATABASE_URL;
  if (!connectionString) {
    embedded = await startEmbeddedPostgres({ dataDir: env.DATA_DIR });
    cleanups.push("embedded database", () => embedded!.stop());
    connectionString = embedded.connectionString;
    log.info({ dataDir: env.DATA_DIR }, "embedded PostgreSQL (PGlite) started");
  }

  const applied = await applyMigrations({ connectionString });
  if (applied.length > 0) log.info({ migrations: applied.map((dir) => dir.split(/[\\/]/).pop()) }, "migrations applied");

  // PGlite runs every connection on one session, so statements of two pooled
  // connections could interleave; one connection costs nothing there.
  const database = createDatabase(connectionString, { poolSize: embedded ? 1 : env.DATABASE_POOL_SIZE });
  setDatabase(database);
  cleanups.push("database pool", async () => {
    await database.close();
    setDatabase(undefined);
  });
  const wantDemo = demoUsersWanted(env, Boolean(embedded));
  const bootstrap = await bootstrapDatabase(database, env, { demoUsers: wantDemo });
  if (bootstrap.adminCreated) log.info({ email: env.ADMIN_EMAIL }, "first admin created from ADMIN_EMAIL");
  if (bootstrap.demoUsersCreated > 0) log.info({ created: bootstrap.demoUsersCreated }, "demo users created");
  if (!bootstrap.hasSuperAdmin) {
    log.warn("No Super Admin yet: the first person to sign up becomes one. Set ADMIN_EMAIL/ADMIN_PASSWORD to choose.");
  }
  if (env.NODE_ENV === "production" && !env.METRICS_TOKEN) {
    log.info("/api/metrics is off: set METRICS_TOKEN to scrape it.");
  }

  // next-auth (inside Next) and the cookie decoder (here) read these.
  process.env.NEXTAUTH_SECRET = await resolveAuthSecret(env);
  process.env.NEXTAUTH_URL ??= env.APP_URL;

  configureRedis(env.REDIS_URL ?? null);
  const redis = getRedis();
  configureRateLimits({ socketMessagesPerWindow: env.SOCKET_MESSAGES_PER_MINUTE, exportWindowSeconds: env.EXPORT_INTERVAL_SECONDS });
  configureExportStreams({ stallTimeoutMs: env.EXPORT_STALL_TIMEOUT_SECONDS * 1000 });
  cleanups.push("redis", () => closeRedis());

  const realtime = await startRealtime({ prisma: database.prisma, redisUrl: env.REDIS_URL ?? null, log });
  cleanups.push("real-time", () => realtime.close());
  configureMessagingRuntime({
    offlineGraceMs: env.PRESENCE_OFFLINE_GRACE_MS,
    sessionCheckMs: env.SOCKET_SESSION_CHECK_MS,
    queueCapacity: env.EVENT_QUEUE_CAPACITY,
    socketHighWaterBytes: env.EVENT_SOCKET_HIGH_WATER_BYTES,
  });
  cleanups.push("messaging runtime", () => closeMessagingRuntime());
  // Uploaded files: the local disk under DATA_DIR, or an S3 bucket (S3_BUCKET).
  const attachmentStorage = await createAttachmentStorage(env);
  configureAttachments({ storage: attachmentStorage, allowedOrigins: env.allowedOrigins });
  cleanups.push("attachments", async () => {
    configureAttachments(undefined);
    attachmentStorage.destroy?.();
  });
  log.info({ storage: attachmentStorage.kind }, "attachment storage ready");
  // New messages become notifications; emails and pushes go out as jobs.
  const notifications = startNotifications({
    prisma: database.prisma,
    realtime,
    log: log.child({ module: "notifications" }),
    env,
    pushAgent: options.pushAgent,
  });
  cleanups.push("notifications", () => notifications.close());
  // A settings change made on any instance: forget the cached limits, tell this instance's subscribers.
  const stopFollowingSettings = followSettingsChanges({
    bus: realtime.bus,
    prisma: database.prisma,
    log,
    deliver: (settings) => startedMessagingRuntime(realtime)?.hub.deliverToEveryone({ type: "settings.updated", settings }),
  });
  cleanups.push("settings sync", async () => stopFollowingSettings());
  // A role or permission change made on any instance: open connections reload their user.
  const stopFollowingAccess = followAccessChanges(realtime.bus);
  cleanups.push("access sync", async () => stopFollowingAccess());
  // Deletes messages past the settings' retention and audit entries past AUDIT_RETENTION_DAYS;
  // one instance at a time (an advisory lock held for the whole run).
  if (env.RETENTION_INTERVAL_MS > 0) {
    const retention = scheduleRetention({
      prisma: database.prisma,
      log: log.child({ module: "retention" }),
      intervalMs: env.RETENTION_INTERVAL_MS,
      auditRetentionDays: env.AUDIT_RETENTION_DAYS,
      attachmentStorage,
    });
    cleanups.push("retention", () => retention.stop());
  }

  const nextHandlers = options.next
    ? await prepareNext({ dev: options.dev, port: env.PORT, hostname: env.HOST })
    : null;
  if (nextHandlers) cleanups.push("next.js", () => nextHandlers.close());

  let shuttingDown = false;

  async function handleHttp(req: IncomingMessage, res: ServerResponse, relayed: boolean) {
    const url = new URL(req.url ?? "/", "http://internal");
    if (url.pathname === "/api/health") {
      const report = await checkHealth({ pool: database.pool, embedded: Boolean(embedded), redis });
      return sendJson(res, report.status === "ok" && !shuttingDown ? 200 : 503, { ...report, shuttingDown });
    }
    // /api/metrics, /api/messaging/status, /api/export
    const ops = {
      prisma: database.prisma,
      status,
      metricsToken: env.METRICS_TOKEN,
      metricsOnLoopback: env.NODE_ENV !== "production",
      allowedOrigins: env.allowedOrigins,
    };
    if (await handleOpsRequest(req, res, url.pathname, relayed, ops)) return;
    if (url.pathname === TRPC_HTTP_PATH || url.pathname.startsWith(`${TRPC_HTTP_PATH}/`)) {
      if (req.method !== "GET" && !isOriginAllowed(req, env.allowedOrigins)) {
        return sendJson(res, 403, { error: "Cross-site requests are not allowed." });
      }
      return nodeHTTPRequestHandler({
        router: appRouter,
        req,
        res,
        path: url.pathname.slice(TRPC_HTTP_PATH.length + 1),
        maxBodySize: HTTP_MAX_BODY_BYTES,
        createContext: ({ req: request }) => createContext({ req: request, transport: "http" }),
      });
    }
    if (nextHandlers) return nextHandlers.handleRequest(req, res);
    return sendJson(res, 404, { error: "Not found" });
  }

  /** Everything downstream reads the caller's address from this one header. */
  function resolveCaller(req: IncomingMessage) {
    const address = resolveClientAddress(req.headers["x-forwarded-for"], req.socket.remoteAddress, env.TRUST_PROXY_HOPS);
    if (address) req.headers["x-forwarded-for"] = address;
    else delete req.headers["x-forwarded-for"];
  }

  const applySecurityHeaders = securityHeaders({ appUrl: env.APP_URL, allowedOrigins: env.allowedOrigins, dev: options.dev, imageHosts: oauthImageHosts(env) });
  const httpServer = createServer((req, res) => {
    applySecurityHeaders(req, res);
    // Before resolveCaller rewrites it: whether a proxy relayed this request (metrics stay local).
    const relayed = req.headers["x-forwarded-for"] !== undefined || req.headers.forwarded !== undefined;
    resolveCaller(req);
    const requestId = ensureRequestId(req);
    res.setHeader("x-request-id", requestId);
    const started = performance.now();
    res.once("finish", () => {
      log.debug(
        { requestId, method: req.method, url: req.url, status: res.statusCode, ms: Math.round(performance.now() - started) },
        "request",
      );
    });
    handleHttp(req, res, relayed).catch((error: unknown) => {
      log.error({ err: error, requestId, url: req.url }, "request failed");
      if (!res.headersSent) sendJson(res, 500, { error: "Internal server error" });
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD_BYTES });
  wss.on("connection", (client) => guardSocketFrames(client));
  const trpcWs = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: ({ req, res }) => createContext({ req, transport: "ws", socket: res }),
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 10_000 },
    onError: ({ error, path }) => {
      if (error.code !== "INTERNAL_SERVER_ERROR") return;
      // Without a path the fault is the socket's (an oversized or broken frame), not ours.
      if (path) log.error({ err: error, path }, "websocket procedure failed");
      else log.warn({ reason: error.message }, "websocket closed for a protocol error");
    },
  });

  // Each instance's numbers for /api/messaging/status (a heartbeat in Redis) and /api/metrics.
  const status = startStatusReporter({
    redis,
    prefix: realtime.channelPrefix,
    sockets: () => wss.clients.size,
    hub: () => startedMessagingRuntime(realtime)?.hub,
    log,
  });
  cleanups.push("status reporter", () => status.close());
  setSocketCounter(() => wss.clients.size);
  cleanups.push("metrics", async () => setSocketCounter(undefined));

  // Upgraded sockets leave the HTTP server's bookkeeping; Next's hot-reload ones
  // are tracked here so shutdown can close them (Next's close() does not).
  const nextUpgrades = new Set<Duplex>();

  httpServer.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    resolveCaller(req);
    const pathname = new URL(req.url ?? "/", "http://internal").pathname;
    if (pathname === TRPC_WS_PATH) {
      if (shuttingDown) return refuseUpgrade(socket, 503, "Service Unavailable");
      if (!isOriginAllowed(req, env.allowedOrigins)) {
        log.warn({ origin: req.headers.origin }, "websocket upgrade from a foreign origin refused");
        return refuseUpgrade(socket, 403, "Forbidden");
      }
      wss.handleUpgrade(req, socket, head, (client) => wss.emit("connection", client, req));
      return;
    }
    if (nextHandlers?.handleUpgrade && pathname.startsWith("/_next/")) {
      nextUpgrades.add(socket);
      socket.once("close", () => nextUpgrades.delete(socket));
      void nextHandlers.handleUpgrade(req, socket, head);
      return;
    }
    refuseUpgrade(socket, 404, "Not Found");
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(env.PORT, env.HOST, () => resolve());
  });
  cleanups.push("http server", async () => {
    httpServer.closeAllConnections();
    await new Promise((resolve) => httpServer.close(resolve));
  });
  const address = httpServer.address();
  const port = typeof address === "object" && address ? address.port : env.PORT;
  const url = `http://${env.HOST === "0.0.0.0" || env.HOST === "::" ? "localhost" : env.HOST}:${port}`;
  log.info({ url, database: embedded ? "embedded" : "postgresql", redis: Boolean(redis) }, "server listening");
  if (wantDemo) printDemoUsers(env.APP_URL);

  let closing: Promise<void> | undefined;
  async function close() {
    shuttingDown = true;
    // Stops accepting; idle keep-alive connections close now, busy ones when done.
    const drained = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    httpServer.closeIdleConnections();
    // Clients reconnect (with backoff) to whichever instance is up.
    trpcWs.broadcastReconnectNotification();
    await sleep(100);
    for (const client of wss.clients) client.close(1012, "Server restarting");
    // Next's hot-reload sockets and file watchers would otherwise hold the server open.
    for (const socket of nextUpgrades) socket.destroy();
    await nextHandlers?.close().catch((error: unknown) => log.warn({ err: error }, "closing Next.js failed"));
    const drainMs = Math.min(5_000, (env.SHUTDOWN_TIMEOUT_SECONDS * 1000) / 2);
    await Promise.race([drained, sleep(drainMs)]);
    httpServer.closeAllConnections();
    for (const client of wss.clients) client.terminate();
    wss.close();
    await drained;
    await cleanups.runAll(log);
    log.info("server stopped");
  }

  return {
    url,
    port,
    database,
    embedded: Boolean(embedded),
    httpServer,
    wss,
    close: () => (closing ??= close()),
  };
}
