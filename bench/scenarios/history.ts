import { readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { encode } from "next-auth/jwt";
import pg from "pg";
import { numberOption } from "../lib/args";
import { adminUrl, postgresVersion } from "../lib/database";
import type { ReadMode, ReaderResult } from "../lib/history-reader";
import { LIST_PAGE_SIZE, PAGE_SIZE } from "../lib/history-reader";
import { startReaders, type Readers } from "../lib/history-reads";
import { checkHistory, heavyEmail, readHistoryLayout, seedHistory, historyShapeOption } from "../lib/history-seed";
import { openScenarioDatabase, seedOnce } from "../lib/kept-database";
import { startLoad, type StepResult } from "../lib/load";
import { megabytes, sampleProcess, type ProcessSample } from "../lib/process-usage";
import { BENCH_ORIGIN, BENCH_SECRET, startAppServer, type ServerProcess } from "../lib/servers";
import { ms, summarize, table } from "../lib/stats";

// `history`: a database holding millions of messages; the latency of a 50-message
// history page (keyset on (conversation, seq) before a random seq of a large
// conversation) and of the conversation list of a user in 1,000 conversations,
// end to end through tRPC over WebSocket, while other users send messages through
// the app. The same requests through `pg` give what the machine can do: the app's
// own statements (the framework's cost is the difference) and the one query that
// does the work (the round trips' cost).
//
// The three read paths take turns, a slot each per round, so whatever drifts during
// the run (caches warming, unread counts growing under the sends) falls on all of them.

const MODES: { mode: ReadMode; label: string }[] = [
  { mode: "app", label: "Chatline (tRPC over WebSocket)" },
  { mode: "sql", label: "SQL: the app's statements" },
  { mode: "sql-core", label: "SQL: the one query" },
];

interface Slot {
  reads: ReaderResult;
  background: StepResult;
  seconds: number;
  serverCpuSeconds: number;
  serverRssBytes: number;
  databaseCpuSeconds: number;
  readerCpuSeconds: number;
  senderCpuSeconds: number;
  machineBusySeconds: number;
}

async function sessionCookie(userId: string): Promise<string> {
  return `next-auth.session-token=${await encode({ token: { sub: userId }, secret: BENCH_SECRET, maxAge: 24 * 3600 })}`;
}

/** The PostgreSQL backends serving `database` (the app's pool, the readers' pool). */
async function backendPids(database: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [database]);
    return rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
}

function sampleAll(pids: number[]): Map<number, ProcessSample> {
  const samples = new Map<number, ProcessSample>();
  for (const pid of pids) {
    try {
      samples.set(pid, sampleProcess(pid));
    } catch {
      // A backend that ended in between.
    }
  }
  return samples;
}

/**
 * CPU seconds the whole machine has spent busy since boot (all cores; steal, idle
 * and I/O wait excluded): what is left after this run's own processes is the other
 * load sharing the machine, reported with each path so that a contended slot shows.
 */
function machineBusySeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq] = fields as [number, number, number, number, number, number, number];
  return (user + nice + system + irq + softirq) / 100;
}

async function seededUsers(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [heavyEmail]);
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

/** A backend that started in between (pools open connections as they need them) counts from its start. */
function cpuSecondsBetween(before: Map<number, ProcessSample>, after: Map<number, ProcessSample>): number {
  let total = 0;
  for (const [pid, end] of after) total += end.cpuSeconds - (before.get(pid)?.cpuSeconds ?? 0);
  return total;
}

export async function runHistory(options: Map<string, string>): Promise<void> {
  const shape = historyShapeOption(options);
  const seconds = numberOption(options, "seconds", 20);
  const rounds = Math.max(1, numberOption(options, "rounds", 4));
  const readerCount = numberOption(options, "readers", 8);
  const pageRate = numberOption(options, "page-rate", 50);
  const listRate = numberOption(options, "list-rate", 10);
  const backgroundRate = numberOption(options, "background-rate", 100);
  const backgroundConversations = numberOption(options, "background-conversations", 100);
  const processes = numberOption(options, "processes", 1);
  const seedConnections = numberOption(options, "seed-connections", 2);
  const keep = options.get("keep");
  const slotMs = (seconds * 1000) / rounds;
  console.log(
    `history: ${shape.messages.toLocaleString("en-US")} messages in ${shape.conversations.toLocaleString("en-US")} conversations ` +
      `(${shape.large} large groups hold ${Math.round(shape.largeShare * 100)}%), ${shape.users.toLocaleString("en-US")} users, ` +
      `the heavy user in ${shape.heavyConversations}; reads ${pageRate} pages/s by ${readerCount} readers + ${listRate} lists/s, ` +
      `${seconds} s per path in ${rounds} rounds, under ${backgroundRate} sends/s in ${backgroundConversations} conversations ` +
      `(${processes} load process(es)); ${cpus()[0]?.model ?? "?"} x${availableParallelism()}, Node ${process.version}, ` +
      `PostgreSQL ${await postgresVersion(adminUrl())}`,
  );

  const database = await openScenarioDatabase("history", keep);
  let server: ServerProcess | undefined;
  let load: Awaited<ReturnType<typeof startLoad>> | undefined;
  const readers = new Map<ReadMode, Readers>();
  try {
    server = await startAppServer(database.url);
    await seedOnce(database, JSON.stringify(shape), {
      hasRows: async () => (await seededUsers(database.url)) > 0,
      seed: async () => {
        console.log(`\nSeeding ${database.name} (${seedConnections} connections):`);
        const report = await seedHistory(database.url, shape, seedConnections, (line) => console.log(line));
        console.log(
          `Seeded ${report.rows.toLocaleString("en-US")} rows (${report.messages.toLocaleString("en-US")} messages) in ${report.seconds.toFixed(0)} s: ` +
            `${(report.rows / report.seconds).toFixed(0)} rows/s; VACUUM ANALYZE + CHECKPOINT ${report.vacuumSeconds.toFixed(0)} s`,
        );
        const checkedAt = performance.now();
        const broken = Object.entries(await checkHistory(database.url)).filter(([, count]) => count !== 0);
        if (broken.length) throw new Error(`the seed broke invariants: ${broken.map(([what, count]) => `${what}: ${count}`).join(", ")}`);
        console.log(`Invariants hold (seqs gap-free from 1, last_message_*, positions, memberships), checked in ${((performance.now() - checkedAt) / 1000).toFixed(0)} s`);
      },
    });
    const layout = await readHistoryLayout(database.url);
    const largeSeqs = layout.large.map((conversation) => conversation.lastSeq);
    console.log(
      `${layout.messageCount.toLocaleString("en-US")} messages stored; the heavy user is in ${layout.heavyConversationCount} conversations; ` +
        `large conversations hold ${Math.min(...largeSeqs).toLocaleString("en-US")}..${Math.max(...largeSeqs).toLocaleString("en-US")} messages`,
    );

    const cookies = new Map<string, string>();
    const userOf = async (id: string) => {
      if (!cookies.has(id)) cookies.set(id, await sessionCookie(id));
      return { id, cookie: cookies.get(id)! };
    };
    const heavy = await userOf(layout.heavyId);
    // Half the sends go to the heavy user's direct conversations, half to the large
    // groups being read: both lists and pages are read while they change.
    const routes = [];
    for (let i = 0; i < backgroundConversations; i += 1) {
      const k = Math.floor(i / 2);
      if (i % 2 === 0 && k < layout.heavyDirects.length) {
        const direct = layout.heavyDirects[k]!;
        routes.push({ sender: await userOf(direct.otherId), receivers: [heavy], conversationId: direct.id });
      } else {
        const sender = layout.largeMemberIds[k % layout.largeMemberIds.length]!;
        routes.push({ sender: await userOf(sender), receivers: [heavy], conversationId: layout.large[k % layout.large.length]!.id });
      }
    }
    load = await startLoad({ mode: "app", url: server.url, origin: BENCH_ORIGIN, routes, listeners: [heavy], processes });
    const readerUsers = await Promise.all(
      Array.from({ length: readerCount }, (_, i) => userOf(layout.largeMemberIds[i % layout.largeMemberIds.length]!)),
    );
    for (const { mode } of MODES) {
      readers.set(
        mode,
        await startReaders({
          mode,
          serverUrl: server.url,
          origin: BENCH_ORIGIN,
          databaseUrl: database.url,
          readers: readerUsers,
          heavy,
          large: layout.large,
          poolSize: 10,
        }),
      );
    }

    const noSends: StepResult = {
      sent: 0, acked: 0, ackErrors: 0, firstAckError: null, deliveries: [], acks: [], generatorCpu: [0], maxTimerLagMs: 0,
    };
    const runSlot = async (mode: ReadMode, step: string, durationMs: number, seed: number): Promise<Slot> => {
      const reader = readers.get(mode)!;
      const sample = async () => ({
        server: sampleProcess(server!.pid),
        reader: sampleProcess(reader.pid),
        database: sampleAll(await backendPids(database.name)),
        senders: sampleAll(load!.pids),
        machine: machineBusySeconds(),
        at: performance.now(),
      });
      const before = await sample();
      const [reads, background] = await Promise.all([
        reader.run({ pageRate, listRate, durationMs, drainMs: 10_000, seed }),
        backgroundRate > 0 ? load!.run(step, backgroundRate, durationMs, 2_000) : noSends,
      ]);
      const after = await sample();
      return {
        reads,
        background,
        seconds: (after.at - before.at) / 1000,
        serverCpuSeconds: after.server.cpuSeconds - before.server.cpuSeconds,
        serverRssBytes: after.server.rssBytes,
        databaseCpuSeconds: cpuSecondsBetween(before.database, after.database),
        readerCpuSeconds: after.reader.cpuSeconds - before.reader.cpuSeconds,
        senderCpuSeconds: cpuSecondsBetween(before.senders, after.senders),
        machineBusySeconds: after.machine - before.machine,
      };
    };

    // Warm-up (JIT, pools, the hot part of the indexes); not reported.
    for (const { mode } of MODES) await runSlot(mode, `warm-${mode}`, 3_000, 1);
    const slots = new Map<ReadMode, Slot[]>(MODES.map(({ mode }) => [mode, []]));
    for (let round = 0; round < rounds; round += 1) {
      // The same request sequence for every path within a round.
      for (const { mode } of MODES) slots.get(mode)!.push(await runSlot(mode, `r${round}-${mode}`, slotMs, 1000 + round));
    }

    const merged = MODES.map(({ mode, label }) => {
      const list = slots.get(mode)!;
      const all = <T>(pick: (slot: Slot) => T[]) => list.flatMap(pick);
      const total = (pick: (slot: Slot) => number) => list.reduce((sum, slot) => sum + pick(slot), 0);
      const wall = total((slot) => slot.seconds);
      return {
        mode,
        label,
        page: summarize(all((slot) => slot.reads.page)),
        listFirst: summarize(all((slot) => slot.reads.listFirst)),
        listDeep: summarize(all((slot) => slot.reads.listDeep)),
        errors: total((slot) => slot.reads.errors),
        unanswered: total((slot) => slot.reads.unanswered),
        firstError: list.find((slot) => slot.reads.firstError)?.reads.firstError ?? null,
        lag: Math.max(...list.map((slot) => slot.reads.maxTimerLagMs)),
        serverCpu: (total((slot) => slot.serverCpuSeconds) / wall) * 100,
        serverRss: Math.max(...list.map((slot) => slot.serverRssBytes)),
        databaseCpu: (total((slot) => slot.databaseCpuSeconds) / wall) * 100,
        readerCpu: (total((slot) => slot.readerCpuSeconds) / wall) * 100,
        sent: total((slot) => slot.background.sent),
        acked: total((slot) => slot.background.acked),
        sendErrors: total((slot) => slot.background.ackErrors),
        firstSendError: list.find((slot) => slot.background.firstAckError)?.background.firstAckError ?? null,
        delivered: summarize(all((slot) => slot.background.deliveries)),
        senderCpu: (total((slot) => slot.senderCpuSeconds) / wall) * 100,
        otherCpu:
          (total(
            (slot) => slot.machineBusySeconds - slot.serverCpuSeconds - slot.databaseCpuSeconds - slot.readerCpuSeconds - slot.senderCpuSeconds,
          ) /
            wall) *
          100,
      };
    });
    const [app, statements, core] = merged as [(typeof merged)[number], (typeof merged)[number], (typeof merged)[number]];

    const latencyTable = (title: string, pick: (row: (typeof merged)[number]) => ReturnType<typeof summarize>) => {
      console.log(`\n${title}`);
      console.log(
        table(
          ["path", "requests", "p50 ms", "p95", "p99", "max", "p99 / app's statements", "p99 / one query"],
          merged.map((row) => {
            const latency = pick(row);
            return [
              row.label,
              latency.count,
              ms(latency.p50),
              ms(latency.p95),
              ms(latency.p99),
              ms(latency.max),
              `${(latency.p99 / pick(statements).p99).toFixed(1)}x`,
              `${(latency.p99 / pick(core).p99).toFixed(1)}x`,
            ];
          }),
        ),
      );
    };
    const averageLarge = Math.round(largeSeqs.reduce((sum, n) => sum + n, 0) / largeSeqs.length);
    latencyTable(
      `messages.list: ${PAGE_SIZE} messages before a random seq of one of ${layout.large.length} large conversations ` +
        `(${averageLarge.toLocaleString("en-US")} messages each), ${pageRate}/s from ${readerCount} readers`,
      (row) => row.page,
    );
    latencyTable(
      `conversations.list, first page (${LIST_PAGE_SIZE}) of the heavy user (${layout.heavyConversationCount} conversations), ${listRate / 2}/s`,
      (row) => row.listFirst,
    );
    latencyTable(`conversations.list, a later page (random cursor of ${readers.get("app")!.listPages} pages), ${listRate / 2}/s`, (row) => row.listDeep);

    console.log(
      `\nWhile each path was measured (${seconds} s each; CPU in percent of one core, ${availableParallelism() * 100}% in all; ` +
        `"other load": whatever else ran on the machine meanwhile)`,
    );
    console.log(
      table(
        [
          "path", "read errors", "server CPU%", "server RSS MB", "postgres CPU%", "reader CPU%", "reader lag ms",
          "sends", "acked", "send errors", "delivery p50 ms", "p99", "sender CPU%", "other load CPU%",
        ],
        merged.map((row) => [
          row.label,
          row.errors + row.unanswered,
          row.serverCpu.toFixed(0),
          megabytes(row.serverRss),
          row.databaseCpu.toFixed(0),
          row.readerCpu.toFixed(0),
          ms(row.lag),
          row.sent,
          row.acked,
          row.sendErrors,
          ms(row.delivered.p50),
          ms(row.delivered.p99),
          row.senderCpu.toFixed(0),
          row.otherCpu.toFixed(0),
        ]),
      ),
    );
    for (const row of merged) {
      if (row.firstError) console.log(`${row.label}: first read error: ${row.firstError}`);
      if (row.unanswered) console.log(`${row.label}: ${row.unanswered} reads unanswered after the drain`);
      if (row.firstSendError) console.log(`${row.label}: first send error: ${row.firstSendError}`);
    }

    const listP99 = Math.max(app.listFirst.p99, app.listDeep.p99);
    const verdict = (value: number, target: number) => (value < target ? `meets < ${target}` : `misses < ${target}`);
    console.log(
      `\nSUMMARY history: ${layout.messageCount.toLocaleString("en-US")} messages; messages.list p99 ${ms(app.page.p99)} ms (${verdict(app.page.p99, 15)}; ` +
        `${(app.page.p99 / statements.page.p99).toFixed(1)}x the app's SQL, ${(app.page.p99 / core.page.p99).toFixed(1)}x the keyset query's ${ms(core.page.p99)} ms), ` +
        `conversations.list p99 ${ms(listP99)} ms (first page ${ms(app.listFirst.p99)}, later ${ms(app.listDeep.p99)}; ${verdict(listP99, 30)}; ` +
        `${(listP99 / Math.max(statements.listFirst.p99, statements.listDeep.p99)).toFixed(1)}x the app's SQL, ` +
        `${(listP99 / Math.max(core.listFirst.p99, core.listDeep.p99)).toFixed(1)}x the list query's), ` +
        `under ${backgroundRate} sends/s (delivery p99 ${ms(app.delivered.p99)} ms), server CPU ${app.serverCpu.toFixed(0)}%` +
        (app.errors + app.unanswered + app.sendErrors > 0 ? `; ${app.errors + app.unanswered} read and ${app.sendErrors} send errors` : ""),
    );
  } finally {
    await Promise.all([...readers.values()].map((reader) => reader.close()));
    await load?.close();
    await server?.stop();
    if (database.kept) console.log(`\nKept ${database.name} (drop it with: DROP DATABASE "${database.name}")`);
    else await database.drop();
  }
}
