import pg from "pg";
import type { WorkerRoute, WorkerUser } from "../load-worker";
import { createBenchDatabase } from "./database";
import { startLoad, type StepResult } from "./load";
import { cpuPercent, megabytes, sampleProcess } from "./process-usage";
import { BENCH_ORIGIN, startAppServer, startBaselineServer, type ServerProcess } from "./servers";
import { ms, summarize, table } from "./stats";

// A rate ramp shared by the scenarios that send (`direct`, `group`): the rate is
// raised step by step until p99 passes the target or a step loses something; the
// highest step with everything persisted and delivered within it is the result.
// The same ramp runs against the product and against the baseline (raw ws + pg).

export interface StepRow {
  rate: number;
  /** Deliveries expected per message sent (1 for a pair, members - 1 for a group). */
  fanOut: number;
  result: StepResult;
  persisted: number;
  serverCpu: number;
  serverRssBytes: number;
}

export interface RampSetup {
  routes: WorkerRoute[];
  listeners: WorkerUser[];
  fanOut: number;
}

async function countPersisted(databaseUrl: string, tableName: string, step: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${tableName} WHERE content LIKE $1`, [`b|${step}|%`]);
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

export function isComplete(row: StepRow): boolean {
  const { result, persisted, fanOut } = row;
  return result.ackErrors === 0 && persisted === result.sent && result.deliveries.length === result.sent * fanOut;
}

export async function ramp(options: {
  scenario: string;
  target: "app" | "baseline";
  /** People and conversations, made once the server is up (the app's through its API). */
  setup(server: ServerProcess, databaseUrl: string): Promise<RampSetup>;
  steps: number[];
  seconds: number;
  processes: number;
  p99TargetMs: number;
  appEnv?: Record<string, string>;
}): Promise<{ rows: StepRow[]; sockets: number }> {
  const database = await createBenchDatabase(`${options.scenario}_${options.target}`);
  let server: ServerProcess | undefined;
  let load: Awaited<ReturnType<typeof startLoad>> | undefined;
  try {
    server = options.target === "app" ? await startAppServer(database.url, options.appEnv) : await startBaselineServer(database.url);
    const { routes, listeners, fanOut } = await options.setup(server, database.url);
    load = await startLoad({ mode: options.target, url: server.url, origin: BENCH_ORIGIN, routes, listeners, processes: options.processes });
    // Warm-up: JIT, pools, prepared statements; not reported.
    await load.run("warmup", Math.min(200, options.steps[0] ?? 200), 2_000, 2_000);

    const rows: StepRow[] = [];
    for (const rate of options.steps) {
      const step = `r${rate}`;
      const before = sampleProcess(server.pid);
      const result = await load.run(step, rate, options.seconds * 1000, 5_000);
      const after = sampleProcess(server.pid);
      const persisted = await countPersisted(database.url, options.target === "app" ? "messages" : "baseline_messages", step);
      const row = { rate, fanOut, result, persisted, serverCpu: cpuPercent(before, after), serverRssBytes: after.rssBytes };
      rows.push(row);
      if (!isComplete(row) || summarize(result.deliveries).p99 > options.p99TargetMs) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    return { rows, sockets: load.sockets };
  } finally {
    await load?.close();
    await server?.stop();
    await database.drop();
  }
}

/** Prints the ramp's table; returns the highest sustained step. */
export function reportRamp(label: string, rows: StepRow[], p99TargetMs: number): StepRow | undefined {
  const fanOut = rows[0]?.fanOut ?? 1;
  const lines = rows.map((row) => {
    const { rate, result, persisted, serverCpu, serverRssBytes } = row;
    const latency = summarize(result.deliveries);
    const acks = summarize(result.acks);
    return [
      rate,
      ...(fanOut > 1 ? [rate * fanOut] : []),
      result.sent,
      persisted,
      result.deliveries.length,
      result.ackErrors,
      ms(latency.p50),
      ms(latency.p95),
      ms(latency.p99),
      ms(latency.max),
      ms(acks.p99),
      serverCpu.toFixed(0),
      megabytes(serverRssBytes),
      result.generatorCpu.map((cpu) => cpu.toFixed(0)).join("+"),
      ms(result.maxTimerLagMs),
    ];
  });
  console.log(`\n${label}`);
  console.log(
    table(
      [
        "msg/s",
        ...(fanOut > 1 ? ["deliveries/s"] : []),
        "sent",
        "persisted",
        "delivered",
        "errors",
        "p50 ms",
        "p95",
        "p99",
        "max",
        "ack p99",
        "server CPU%",
        "RSS MB",
        "gen CPU%",
        "gen lag ms",
      ],
      lines,
    ),
  );
  return rows.filter((row) => isComplete(row) && summarize(row.result.deliveries).p99 <= p99TargetMs).at(-1);
}

/** "N msg/s (p50, p99, CPU, RSS)" for a SUMMARY line. */
export function describeStep(row: StepRow | undefined, unit: "msg" | "deliveries"): string {
  if (!row) return "none sustained";
  const latency = summarize(row.result.deliveries);
  const rate = unit === "msg" ? `${row.rate} msg/s` : `${row.rate * row.fanOut} deliveries/s (${row.rate} msg/s x ${row.fanOut})`;
  return `${rate} (p50 ${ms(latency.p50)} ms, p99 ${ms(latency.p99)} ms, server CPU ${row.serverCpu.toFixed(0)}%, RSS ${megabytes(row.serverRssBytes)} MB)`;
}
