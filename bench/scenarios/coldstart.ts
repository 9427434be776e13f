import { spawn, type ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import { connect } from "node:net";
import { availableParallelism, cpus, loadavg } from "node:os";
import { createInterface } from "node:readline";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import superjson from "superjson";
import WebSocket from "ws";
import type { AppRouter } from "~/server/trpc/root";
import { TRPC_WS_PATH } from "~/trpc/shared";
import { numberOption } from "../lib/args";
import { createBenchDatabase, postgresVersion } from "../lib/database";
import { createUsers, type BenchUser } from "../lib/people";
import { megabytes, sampleProcess } from "../lib/process-usage";
import { BENCH_ORIGIN, BENCH_SECRET, keepStderr } from "../lib/servers";
import { BUILD_ID, ensureProductionBuild, SERVER_ENTRY } from "../lib/production-build";
import { freePort } from "../lib/redis-process";
import { median, ms, table } from "../lib/stats";

// `coldstart`: from process start to the first authenticated socket and the first
// page, on the production build started as the Dockerfile starts it
// (`node dist/server.js`, NODE_ENV=production). Every run is a fresh process; the
// first starts on an empty database (it applies the migrations and writes the base
// data), the `--runs` after it restart on that database, which is what a deploy or
// a crash restart looks like, and their median is the figure against the target.
//
// The client side is sequential, as a load balancer and then a browser would go:
// the port accepts, /api/health answers 200, a signed-in tRPC WebSocket has its
// events.onEvent subscription started (the server's "ready" event), then GET
// /messages with the same cookie answers 200 and its whole body is read.

const TARGET_SOCKET_MS = 1500;
/** How often the harness retries the port while the server is not listening yet. */
const PORT_POLL_MS = 5;
const RUN_TIMEOUT_MS = 60_000;

interface RunResult {
  migrations: string[];
  /** From spawn to the time on the server's own "server listening" line (start-up complete). */
  startedLogMs: number;
  portMs: number;
  healthMs: number;
  socketMs: number;
  pageMs: number;
  /** The page request alone. */
  pageRequestMs: number;
  pageBytes: number;
  rssBytes: number;
  /** CPU the server had used (all its threads) when the socket was ready: the start-up's work, whatever the machine's load. */
  cpuToSocketSeconds: number;
  cpuSeconds: number;
}

const sleep = (delay: number) => new Promise((resolve) => setTimeout(resolve, delay));


function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

interface Started {
  child: ChildProcess;
  /** Resolves with the log line's time once the server logs that it listens. */
  listening: Promise<number>;
  migrations: string[];
  exited: Promise<void>;
  stderr: string[];
}

function spawnServer(entry: string, port: number, databaseUrl: string, redisUrl: string | undefined): Started {
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the start, as for the other scenarios.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    HOST: "127.0.0.1",
    PORT: String(port),
    APP_URL: BENCH_ORIGIN,
    DATABASE_URL: databaseUrl,
    NEXTAUTH_SECRET: BENCH_SECRET,
    SEED_DEMO_USERS: "false",
    // "migrations applied" and "server listening" are info lines; they tell the process's own view.
    LOG_LEVEL: "info",
  };
  if (redisUrl) env.REDIS_URL = redisUrl;
  else delete env.REDIS_URL;
  const child = spawn(process.execPath, [...nodeArgs, entry], { env, stdio: ["ignore", "pipe", "pipe"] });
  const stderr = keepStderr(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const migrations: string[] = [];
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (process.env.BENCH_SERVER_STDERR === "1") process.stderr.write(`${line}\n`);
      if (!line.startsWith("{")) return;
      const entry = JSON.parse(line) as { msg?: string; time?: number; migrations?: string[] };
      if (entry.msg === "migrations applied") migrations.push(...(entry.migrations ?? []));
      if (entry.msg === "server listening") resolve(entry.time ?? Number.NaN);
    });
    void exited.then(() => reject(new Error(`${entry} exited with ${child.exitCode ?? child.signalCode} before listening:\n${stderr.join("")}`)));
  });
  // The run fails on its own terms if the server dies; this only keeps the rejection handled.
  listening.catch(() => undefined);
  return { child, listening, migrations, exited, stderr };
}

async function stopServer(started: Started): Promise<void> {
  const { child } = started;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await started.exited;
  clearTimeout(killer);
}

/** One signed-in tRPC WebSocket, resolved once its events.onEvent subscription has started. */
async function openEventSocket(baseUrl: string, user: BenchUser): Promise<() => Promise<void>> {
  const headers = { cookie: user.cookie, origin: BENCH_ORIGIN };
  class HeaderWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  const wsClient = createWSClient({
    url: `${baseUrl.replace(/^http/, "ws")}${TRPC_WS_PATH}`,
    WebSocket: HeaderWebSocket as unknown as typeof globalThis.WebSocket,
  });
  const api = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient, transformer: superjson })] });
  let unsubscribe = () => {};
  try {
    await new Promise<void>((resolve, reject) => {
      const subscription = api.events.onEvent.subscribe(undefined, {
        onData(item) {
          const event = ("data" in item ? item.data : item) as { type: string };
          if (event.type === "ready") resolve();
        },
        onError: reject,
      });
      unsubscribe = () => subscription.unsubscribe();
    });
  } catch (error) {
    await wsClient.close();
    throw error;
  }
  return async () => {
    unsubscribe();
    await wsClient.close();
  };
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`coldstart: no ${what} within ${RUN_TIMEOUT_MS / 1000} s`)), RUN_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One fresh process, measured from the moment of spawn. `user` is null on an
 * empty database: the user is written once the server has made the schema and
 * the roles (that insert, a few ms, then counts in this run's socket time).
 */
async function measureRun(
  entry: string,
  databaseUrl: string,
  redisUrl: string | undefined,
  user: BenchUser | null,
): Promise<{ result: RunResult; user: BenchUser }> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const spawnedAtEpoch = Date.now();
  const t0 = performance.now();
  const started = spawnServer(entry, port, databaseUrl, redisUrl);
  const since = () => performance.now() - t0;
  let closeSocket: (() => Promise<void>) | undefined;
  try {
    const died = started.exited.then(() => {
      throw new Error(`${entry} exited with ${started.child.exitCode ?? started.child.signalCode}:\n${started.stderr.join("")}`);
    });
    died.catch(() => undefined);
    const step = <T>(promise: Promise<T>, what: string) => withTimeout(Promise.race([promise, died]), what);

    await step(
      (async () => {
        while (!(await portAccepts(port))) await sleep(PORT_POLL_MS);
      })(),
      "open port",
    );
    const portMs = since();

    await step(
      (async () => {
        for (;;) {
          const response = await fetch(`${baseUrl}/api/health`).catch(() => null);
          await response?.arrayBuffer();
          if (response?.status === 200) return;
          await sleep(PORT_POLL_MS);
        }
      })(),
      "healthy /api/health",
    );
    const healthMs = since();

    const signedIn = user ?? (await createUsers(databaseUrl, 1, "coldstart"))[0]!;
    closeSocket = await step(openEventSocket(baseUrl, signedIn), "started event subscription");
    const socketMs = since();
    const atSocket = sampleProcess(started.child.pid!);

    const pageStart = performance.now();
    const page = await step(
      (async () => {
        const response = await fetch(`${baseUrl}/messages`, { headers: { cookie: signedIn.cookie }, redirect: "manual" });
        const body = await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`GET /messages answered ${response.status} ${response.headers.get("location") ?? ""}`);
        return body.byteLength;
      })(),
      "page",
    );
    const pageMs = since();
    const pageRequestMs = performance.now() - pageStart;

    const usage = sampleProcess(started.child.pid!);
    const startedLogMs = (await started.listening) - spawnedAtEpoch;
    return {
      user: signedIn,
      result: {
        migrations: [...started.migrations],
        startedLogMs,
        portMs,
        healthMs,
        socketMs,
        pageMs,
        pageRequestMs,
        pageBytes: page,
        rssBytes: usage.rssBytes,
        cpuToSocketSeconds: atSocket.cpuSeconds,
        cpuSeconds: usage.cpuSeconds,
      },
    };
  } finally {
    await closeSocket?.().catch(() => undefined);
    await stopServer(started);
  }
}

function row(label: string, entry: string, result: RunResult): (string | number)[] {
  return [
    label,
    entry,
    result.migrations.length ? `${result.migrations.length} applied` : "none",
    ms(result.startedLogMs),
    ms(result.portMs),
    ms(result.healthMs),
    ms(result.socketMs),
    ms(result.pageMs),
    ms(result.pageRequestMs),
    (result.pageBytes / 1024).toFixed(0),
    megabytes(result.rssBytes),
    result.cpuToSocketSeconds.toFixed(2),
    result.cpuSeconds.toFixed(2),
  ];
}

const MILESTONES: [string, (r: RunResult) => number][] = [
  ["started (log)", (r) => r.startedLogMs],
  ["port", (r) => r.portMs],
  ["health", (r) => r.healthMs],
  ["socket", (r) => r.socketMs],
  ["page", (r) => r.pageMs],
  ["page req", (r) => r.pageRequestMs],
];

function spread(results: RunResult[], pick: (r: RunResult) => number) {
  const values = results.map(pick);
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

export async function runColdstart(options: Map<string, string>): Promise<void> {
  const runs = numberOption(options, "runs", 5);
  // Several entries (`--entry dist/server.js,dist/other.js`) take turns, so a
  // comparison of two builds sees the same machine load.
  const entries = (options.get("entry") ?? SERVER_ENTRY).split(",").filter(Boolean);
  const redisUrl = options.get("redis") ?? process.env.REDIS_URL ?? undefined;
  ensureProductionBuild("coldstart", { build: options.get("build") === "true", entries });
  console.log(
    `coldstart: ${entries.join(" vs ")} (NODE_ENV=production, Next.js build ${statSync(BUILD_ID).mtime.toISOString()}), ` +
      `1 start on an empty database then ${runs} restarts${entries.length > 1 ? " of each, taking turns" : ""}; Redis ${redisUrl ? "on" : "off"}; ` +
      `${cpus()[0]?.model ?? "?"} x${availableParallelism()}, load average ${loadavg()[0]!.toFixed(2)}, Node ${process.version}, ` +
      `PostgreSQL ${await postgresVersion(process.env.DATABASE_URL!)}`,
  );
  const database = await createBenchDatabase("coldstart");
  try {
    const first = await measureRun(entries[0]!, database.url, redisUrl, null);
    const restarts = new Map<string, RunResult[]>(entries.map((entry) => [entry, []]));
    const rows = [row("empty db", entries[0]!, first.result)];
    for (let i = 0; i < runs; i += 1) {
      for (const entry of entries) {
        const { result } = await measureRun(entry, database.url, redisUrl, first.user);
        restarts.get(entry)!.push(result);
        rows.push(row(`restart ${i + 1}`, entry, result));
      }
    }

    const header = ["run", "entry", "migrations", "started (log)", "port", "health", "socket", "page", "page req", "page KB", "RSS MB", "CPU s to socket", "CPU s"];
    console.log(
      `\nms from spawn; "started (log)" is the time of the server's own "server listening" line (written once start-up is complete), ` +
        `"page req" the GET /messages alone; RSS and CPU seconds (all threads, 10 ms ticks) of the server when the socket was ready and once the page was served\n${table(header, rows)}`,
    );

    for (const entry of entries) {
      const results = restarts.get(entry)!;
      console.log(
        `\n${entry}: ${runs} restarts (no migrations to apply), ms from spawn\n${table(
          ["milestone", "median", "min", "max"],
          [
            ...MILESTONES.map(([name, pick]) => {
              const s = spread(results, pick);
              return [name, ms(s.median), ms(s.min), ms(s.max)];
            }),
            ["RSS MB", ...Object.values(spread(results, (r) => r.rssBytes)).map((bytes) => megabytes(bytes))],
            ["CPU s to socket", ...Object.values(spread(results, (r) => r.cpuToSocketSeconds)).map((seconds) => seconds.toFixed(2))],
            ["CPU s", ...Object.values(spread(results, (r) => r.cpuSeconds)).map((seconds) => seconds.toFixed(2))],
          ],
        )}`,
      );
    }

    const results = restarts.get(entries[0]!)!;
    const socket = spread(results, (r) => r.socketMs);
    const others = entries
      .slice(1)
      .map((entry) => {
        const other = restarts.get(entry)!;
        return (
          `; ${entry}: socket ${ms(spread(other, (r) => r.socketMs).median)} ms, page ${ms(spread(other, (r) => r.pageMs).median)} ms, ` +
          `CPU to the socket ${spread(other, (r) => r.cpuToSocketSeconds).median.toFixed(2)} s`
        );
      })
      .join("");
    console.log(
      `\nSUMMARY coldstart: first authenticated socket ${ms(socket.median)} ms after spawn ` +
        `(median of ${runs} restarts, ${ms(socket.min)}-${ms(socket.max)}; target < ${TARGET_SOCKET_MS}: ${socket.median < TARGET_SOCKET_MS ? "met" : "MISSED"}), ` +
        `first page ${ms(spread(results, (r) => r.pageMs).median)} ms, started ${ms(spread(results, (r) => r.startedLogMs).median)} ms, ` +
        `RSS ${megabytes(spread(results, (r) => r.rssBytes).median)} MB, server CPU to the socket ${spread(results, (r) => r.cpuToSocketSeconds).median.toFixed(2)} s; ` +
        `first start on an empty database (${first.result.migrations.length} migrations applied): socket ${ms(first.result.socketMs)} ms, ` +
        `page ${ms(first.result.pageMs)} ms${others}`,
    );
  } finally {
    await database.drop();
  }
}
