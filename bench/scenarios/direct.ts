import { randomUUID } from "node:crypto";
import { availableParallelism, cpus } from "node:os";
import pg from "pg";
import { listOption, numberOption } from "../lib/args";
import { createBenchDatabase, postgresVersion } from "../lib/database";
import { startLoad, type StepResult } from "../lib/load";
import { createDirect, createUsers } from "../lib/people";
import { cpuPercent, megabytes, sampleProcess } from "../lib/process-usage";
import { BENCH_ORIGIN, startAppServer, startBaselineServer, type ServerProcess } from "../lib/servers";
import { ms, summarize, table } from "../lib/stats";

// `direct`: pairs of users chatting both ways. The rate is ramped step by step
// until p99 passes the target; the highest step with everything persisted and
// delivered within it is the result. The same ramp runs against the baseline
// (raw ws + pg) for the ratio.

interface StepRow {
  rate: number;
  result: StepResult;
  persisted: number;
  serverCpu: number;
  serverRssBytes: number;
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

async function ramp(options: {
  target: "app" | "baseline";
  pairs: number;
  steps: number[];
  seconds: number;
  processes: number;
  p99TargetMs: number;
}): Promise<{ rows: StepRow[]; sockets: number }> {
  const database = await createBenchDatabase(`direct_${options.target}`);
  let server: ServerProcess | undefined;
  let load: Awaited<ReturnType<typeof startLoad>> | undefined;
  try {
    // The app server creates the schema; the baseline needs the users table too, for the same people.
    server = options.target === "app" ? await startAppServer(database.url) : await startBaselineServer(database.url);
    const users =
      options.target === "app"
        ? await createUsers(database.url, options.pairs * 2, "direct")
        : Array.from({ length: options.pairs * 2 }, () => ({ id: randomUUID(), cookie: "" }));
    const routes = [];
    for (let i = 0; i < options.pairs; i += 1) {
      const [a, b] = [users[2 * i]!, users[2 * i + 1]!];
      const conversationId = options.target === "app" ? await createDirect(server.url, a, b) : randomUUID();
      routes.push({ sender: a, receivers: [b], conversationId }, { sender: b, receivers: [a], conversationId });
    }
    load = await startLoad({
      mode: options.target,
      url: server.url,
      origin: BENCH_ORIGIN,
      routes,
      listeners: users,
      processes: options.processes,
    });
    // Warm-up: JIT, pools, prepared statements; not reported.
    await load.run("warmup", Math.min(200, options.steps[0] ?? 200), 2_000, 2_000);

    const rows: StepRow[] = [];
    for (const rate of options.steps) {
      const step = `r${rate}`;
      const before = sampleProcess(server.pid);
      const result = await load.run(step, rate, options.seconds * 1000, 5_000);
      const after = sampleProcess(server.pid);
      const persisted = await countPersisted(database.url, options.target === "app" ? "messages" : "baseline_messages", step);
      rows.push({ rate, result, persisted, serverCpu: cpuPercent(before, after), serverRssBytes: after.rssBytes });
      const latency = summarize(result.deliveries);
      const complete = result.ackErrors === 0 && persisted === result.sent && result.deliveries.length === result.sent;
      if (!complete || latency.p99 > options.p99TargetMs) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    return { rows, sockets: load.sockets };
  } finally {
    await load?.close();
    await server?.stop();
    await database.drop();
  }
}

function report(label: string, rows: StepRow[], p99TargetMs: number) {
  const lines = rows.map(({ rate, result, persisted, serverCpu, serverRssBytes }) => {
    const latency = summarize(result.deliveries);
    const acks = summarize(result.acks);
    return [
      rate,
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
      ["msg/s", "sent", "persisted", "delivered", "errors", "p50 ms", "p95", "p99", "max", "ack p99", "server CPU%", "RSS MB", "gen CPU%", "gen lag ms"],
      lines,
    ),
  );
  const sustained = rows.filter(({ result, persisted }) => {
    const latency = summarize(result.deliveries);
    return result.ackErrors === 0 && persisted === result.sent && result.deliveries.length === result.sent && latency.p99 <= p99TargetMs;
  });
  return sustained.at(-1);
}

export async function runDirect(options: Map<string, string>): Promise<void> {
  const pairs = numberOption(options, "pairs", 100);
  const steps = listOption(options, "steps", [250, 500, 1000, 2000, 3000, 4000, 6000]);
  const seconds = numberOption(options, "seconds", 5);
  const processes = numberOption(options, "processes", 1);
  const p99TargetMs = numberOption(options, "p99", 50);
  const withBaseline = options.get("baseline") !== "false";
  const baselineSteps = listOption(options, "baseline-steps", steps);
  console.log(
    `direct: ${pairs} pairs chatting both ways, ${seconds} s per step, ramp ${steps.join(", ")} msg/s until p99 > ${p99TargetMs} ms; ` +
      `${processes} load process(es); ${cpus()[0]?.model ?? "?"} x${availableParallelism()}, Node ${process.version}, PostgreSQL ${await postgresVersion(process.env.DATABASE_URL!)}`,
  );
  const app = await ramp({ target: "app", pairs, steps, seconds, processes, p99TargetMs });
  const appBest = report(`Chatline (tRPC over WebSocket, ${app.sockets} sockets)`, app.rows, p99TargetMs);
  let baselineBest: StepRow | undefined;
  if (withBaseline) {
    const baseline = await ramp({ target: "baseline", pairs, steps: baselineSteps, seconds, processes, p99TargetMs });
    baselineBest = report(`Baseline (raw ws + pg, ${baseline.sockets} sockets)`, baseline.rows, p99TargetMs);
  }
  const describe = (row: StepRow | undefined) => {
    if (!row) return "none sustained";
    const latency = summarize(row.result.deliveries);
    return `${row.rate} msg/s (p50 ${ms(latency.p50)} ms, p99 ${ms(latency.p99)} ms, server CPU ${row.serverCpu.toFixed(0)}%, RSS ${megabytes(row.serverRssBytes)} MB)`;
  };
  const ratio = appBest && baselineBest ? ` = ${((appBest.rate / baselineBest.rate) * 100).toFixed(0)}% of baseline` : "";
  console.log(
    `\nSUMMARY direct: highest sustained (all persisted and delivered, p99 <= ${p99TargetMs} ms): ${describe(appBest)}` +
      (withBaseline ? `; baseline ${describe(baselineBest)}${ratio}` : ""),
  );
}
