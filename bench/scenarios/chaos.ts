import { fork, type ChildProcess } from "node:child_process";
import pg from "pg";
import type { ChaosClientReport, ChaosClientSpec, ChaosCommand, ChaosStatus } from "../chaos-worker";
import { numberOption } from "../lib/args";
import { createBenchDatabase } from "../lib/database";
import { machineLine } from "../lib/machine";
import { createDirect, createGroup, createUsers, type BenchUser } from "../lib/people";
import { startRedis, type RedisProcess } from "../lib/redis-process";
import { BENCH_ORIGIN, killOnExit, startAppServer, type ServerProcess } from "../lib/servers";
import { table } from "../lib/stats";

// `chaos`: clients sending through two instances on one PostgreSQL and one Redis
// (a Redis of the scenario's own) while the harness SIGKILLs instances, drops
// sockets and restarts Redis. The clients (bench/chaos-worker.ts, in processes of
// their own) behave as the web client does: the event stream resumes by cursor,
// sends are retried with the same clientMessageId until acknowledged. At the end
// every client's stream is compared with the database, message by message.

const INSTANCE_NAMES = ["A", "B"];

/** Three groups and ten direct conversations over 20 people: everyone is in one of each. */
function layout(userCount: number): { groups: number[][]; directs: [number, number][] } {
  const thirds = [0, Math.round(userCount * 0.4), Math.round(userCount * 0.7), userCount];
  const groups = [0, 1, 2].map((g) => Array.from({ length: thirds[g + 1]! - thirds[g]! }, (_, i) => thirds[g]! + i));
  // Pairs across groups and within them, so some pairs share an instance and some do not.
  const order = [...groups[0]!, ...groups[1]!, ...groups[2]!].sort((x, y) => ((x * 7) % userCount) - ((y * 7) % userCount));
  const directs: [number, number][] = [];
  for (let i = 0; i + 1 < order.length; i += 2) directs.push([order[i]!, order[i + 1]!]);
  return { groups: groups.filter((group) => group.length >= 2), directs };
}

class Worker {
  readonly child: ChildProcess;
  private exited = false;

  constructor() {
    this.child = fork("bench/chaos-worker.ts", [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.once("exit", () => (this.exited = true));
  }

  /** Sends `command` (if any) and waits for the answer of `type`; a worker that never answers fails the run rather than hanging it. */
  ask<T>(type: string, command?: ChaosCommand, timeoutMs = 120_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`chaos worker: no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (message: { type: string; message?: string }) => {
        if (message.type === type) {
          cleanup();
          resolve(message as T);
        } else if (message.type === "error") {
          cleanup();
          reject(new Error(`chaos worker: ${message.message}`));
        }
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`chaos worker exited with ${code}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.child.off("message", onMessage);
        this.child.off("exit", onExit);
      };
      this.child.on("message", onMessage);
      this.child.once("exit", onExit);
      if (command) this.child.send(command);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.send({ type: "close" } satisfies ChaosCommand);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

interface Fault {
  at: number;
  kind: "kill" | "drop" | "redis";
  index: number;
}

/** Faults spread over the sending window, kills and drops interleaved, Redis in the middle. */
function schedule(seconds: number, kills: number, drops: number, redisRestarts: number): Fault[] {
  const spread = (count: number, offset: number) => Array.from({ length: count }, (_, i) => seconds * (0.1 + (0.8 * (i + offset)) / count));
  return [
    ...spread(kills, 0.25).map((at, index) => ({ at, kind: "kill" as const, index })),
    ...spread(drops, 0.75).map((at, index) => ({ at, kind: "drop" as const, index })),
    ...spread(redisRestarts, 0.5).map((at, index) => ({ at, kind: "redis" as const, index })),
  ].sort((x, y) => x.at - y.at);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sample<T>(items: T[], count: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, count);
}

interface StoredMessage {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string | null;
  client_message_id: string | null;
  content: string | null;
}

export async function runChaos(options: Map<string, string>): Promise<void> {
  const userCount = numberOption(options, "clients", 20);
  const seconds = numberOption(options, "seconds", 60);
  const rate = numberOption(options, "rate", 20);
  const kills = numberOption(options, "kills", 3);
  const drops = numberOption(options, "drops", 4);
  const dropClients = numberOption(options, "drop-clients", 5);
  const redisRestarts = numberOption(options, "redis-restarts", 1);
  const downMs = numberOption(options, "down-ms", 2_000);
  const processes = numberOption(options, "processes", 2);
  const catchUpSeconds = numberOption(options, "catch-up-seconds", 90);
  const typing = options.get("typing") !== "false";
  console.log(
    `chaos: ${userCount} clients on two instances (PostgreSQL + a Redis of its own), ${rate} msg/s for ${seconds} s` +
      `${typing ? " with typing" : ""}; ${kills} SIGKILLs (down ${downMs} ms), ${drops} x ${dropClients} dropped sockets, ` +
      `${redisRestarts} Redis restart(s); ${processes} client process(es); ${await machineLine()}`,
  );

  const database = await createBenchDatabase("chaos");
  const instances: (ServerProcess | undefined)[] = [undefined, undefined];
  const workers: Worker[] = [];
  let redis: RedisProcess | undefined;
  // Whatever happens to the harness, no instance, Redis or client process outlives it.
  const killEverything = () => {
    for (const instance of instances) instance?.child.kill("SIGKILL");
    for (const worker of workers) worker.child.kill("SIGKILL");
    if (redis) process.kill(redis.pid, "SIGKILL");
  };
  const stopKillingOnExit = killOnExit(killEverything);
  let failed: boolean;
  try {
    redis = await startRedis();
    const env = (port: number) => ({ REDIS_URL: redis!.url, PORT: String(port) });
    // One after the other: each applies the migrations at start.
    instances[0] = await startAppServer(database.url, env(0));
    instances[1] = await startAppServer(database.url, env(0));
    const ports = instances.map((instance) => instance!.port);
    const urls = instances.map((instance) => instance!.url);

    const users = await createUsers(database.url, userCount, "chaos");
    const { groups, directs } = layout(userCount);
    const conversationsOf = new Map<string, string[]>(users.map((user) => [user.id, []]));
    const members = new Map<string, BenchUser[]>();
    for (const [index, group] of groups.entries()) {
      const [owner, ...rest] = group.map((i) => users[i]!);
      const id = await createGroup(urls[0]!, owner!, rest, `Chaos ${index + 1}`);
      members.set(id, [owner!, ...rest]);
    }
    for (const [x, y] of directs) {
      const id = await createDirect(urls[1]!, users[x]!, users[y]!);
      members.set(id, [users[x]!, users[y]!]);
    }
    for (const [id, people] of members) for (const person of people) conversationsOf.get(person.id)!.push(id);
    const specs: ChaosClientSpec[] = users.map((user, index) => ({
      userId: user.id,
      cookie: user.cookie,
      home: index % 2,
      conversationIds: conversationsOf.get(user.id)!,
    }));
    const label = new Map(users.map((user, index) => [user.id, `u${String(index + 1).padStart(2, "0")}`]));

    for (let i = 0; i < processes; i += 1) workers.push(new Worker());
    await Promise.all(workers.map((worker) => worker.ask("spawned")));
    const workerOf = new Map<string, Worker>();
    await Promise.all(
      workers.map((worker, w) => {
        const share = specs.filter((_, index) => index % workers.length === w);
        for (const spec of share) workerOf.set(spec.userId, worker);
        return worker.ask("ready", { type: "setup", urls, origin: BENCH_ORIGIN, clients: share });
      }),
    );

    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    try {
      const conversationIds = [...members.keys()];
      const lastSeqs = async () => {
        const { rows } = await pool.query<{ id: string; last_seq: number }>(`SELECT id, last_seq FROM conversations WHERE id = ANY($1::uuid[])`, [
          conversationIds,
        ]);
        return new Map(rows.map((row) => [row.id, row.last_seq]));
      };
      // Everything up to here (system messages of the groups) came before the first subscription.
      const baseline = await lastSeqs();

      const startedAt = performance.now();
      const elapsed = () => ((performance.now() - startedAt) / 1000).toFixed(1).padStart(5);
      const log = (line: string) => console.log(`${elapsed()} s  ${line}`);
      await Promise.all(workers.map((worker) => worker.ask("started", { type: "start", messagesPerSecond: rate / userCount, durationMs: seconds * 1000, typing })));
      log(`${userCount} clients sending`);

      let killCount = 0;
      let droppedSockets = 0;
      let redisCount = 0;
      const restartInstance = async (index: number) => {
        for (let attempt = 1; ; attempt += 1) {
          try {
            instances[index] = await startAppServer(database.url, env(ports[index]!));
            return;
          } catch (error) {
            // The port is normally free at once after a SIGKILL; give it a moment otherwise.
            if (attempt >= 5) throw error;
            await sleep(500);
          }
        }
      };
      for (const fault of schedule(seconds, kills, drops, redisRestarts)) {
        const wait = fault.at * 1000 - (performance.now() - startedAt);
        if (wait > 0) await sleep(wait);
        if (fault.kind === "kill") {
          const index = fault.index % 2;
          await instances[index]!.kill();
          killCount += 1;
          log(`SIGKILL instance ${INSTANCE_NAMES[index]}`);
          await sleep(downMs);
          await restartInstance(index);
          log(`instance ${INSTANCE_NAMES[index]} listening again on :${ports[index]}`);
        } else if (fault.kind === "drop") {
          const chosen = sample(specs, dropClients).map((spec) => spec.userId);
          const answers = await Promise.all(
            workers.map((worker) =>
              worker.ask<{ count: number }>("dropped", { type: "drop", userIds: chosen.filter((userId) => workerOf.get(userId) === worker) }),
            ),
          );
          const count = answers.reduce((sum, answer) => sum + answer.count, 0);
          droppedSockets += count;
          log(`dropped ${count} socket(s) (${chosen.map((userId) => label.get(userId)).join(" ")}) with no close handshake`);
        } else {
          await redis.restart(1_000);
          redisCount += 1;
          log(`Redis killed and started again on :${redis.port} (empty)`);
        }
      }
      const sendingEndsIn = seconds * 1000 - (performance.now() - startedAt);
      if (sendingEndsIn > 0) await sleep(sendingEndsIn);
      log("sending window over; waiting for every send to be acknowledged and every client to catch up");

      // Quiescence: nothing left to send, and every client has the newest seq of each of its conversations.
      const catchUpUntil = performance.now() + catchUpSeconds * 1000;
      let behind = "";
      for (;;) {
        const statuses = (await Promise.all(workers.map((worker) => worker.ask<ChaosStatus>("status", { type: "status" })))).flatMap((s) => s.clients);
        const latest = await lastSeqs();
        const lagging = statuses.filter(
          (status) => status.unsent > 0 || conversationsOf.get(status.userId)!.some((id) => (status.highest[id] ?? baseline.get(id)!) < latest.get(id)!),
        );
        behind = lagging.map((status) => `${label.get(status.userId)}${status.unsent ? ` (${status.unsent} unsent)` : ""}`).join(" ");
        if (lagging.length === 0 || performance.now() > catchUpUntil) break;
        await sleep(500);
      }
      log(behind ? `gave up waiting after ${catchUpSeconds} s; still behind: ${behind}` : "all caught up");
      // Anything late or repeated shows up before the count.
      await sleep(2_000);

      const reports = (await Promise.all(workers.map((worker) => worker.ask<{ clients: ChaosClientReport[] }>("report", { type: "report" })))).flatMap(
        (r) => r.clients,
      );
      const { rows: stored } = await pool.query<StoredMessage>(
        `SELECT id, conversation_id, seq, sender_id, client_message_id, content FROM messages WHERE conversation_id = ANY($1::uuid[]) ORDER BY conversation_id, seq`,
        [conversationIds],
      );
      const { rows: twins } = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM (SELECT 1 FROM messages WHERE client_message_id IS NOT NULL GROUP BY sender_id, client_message_id HAVING count(*) > 1) t`,
      );
      const verdict = compare({ stored, baseline, reports, conversationsOf, label, specs });
      const doubleRows = Number(twins[0]?.n ?? 0);

      const totals = {
        reconnects: reports.reduce((sum, r) => sum + r.reconnects, 0),
        resends: reports.reduce((sum, r) => sum + r.resends, 0),
        withCursor: reports.reduce((sum, r) => sum + r.resumedWithCursor, 0),
        withoutCursor: reports.reduce((sum, r) => sum + r.resumedWithoutCursor, 0),
        replayed: reports.reduce((sum, r) => sum + r.replayed, 0),
        subscriptionErrors: reports.reduce((sum, r) => sum + r.subscriptionErrors, 0),
        refusals: reports.reduce((sum, r) => sum + r.refusals, 0),
      };
      console.log(`\n${table(verdict.header, verdict.rows)}`);
      console.log(
        `\nfaults: ${killCount} SIGKILLs, ${droppedSockets} sockets dropped, ${redisCount} Redis restart(s); ` +
          `clients: ${totals.reconnects} reconnects (${totals.withCursor} resumed with a cursor, ${totals.withoutCursor} without), ` +
          `${totals.replayed} events replayed, ${totals.resends} resends, ${totals.subscriptionErrors} subscription errors, ${totals.refusals} refusals`,
      );
      const firstSubscriptionError = reports.find((r) => r.firstSubscriptionError)?.firstSubscriptionError;
      if (firstSubscriptionError) console.log(`first subscription error: ${firstSubscriptionError}`);
      const firstRefusal = reports.find((r) => r.firstRefusal)?.firstRefusal;
      if (firstRefusal) console.log(`first refusal: ${firstRefusal}`);
      const senderSide =
        `sender side: ${verdict.acked} acknowledged, ${verdict.ackedMissing} of them not stored as acknowledged, ${verdict.unsent} never acknowledged, ` +
        `${verdict.unacknowledgedRows} rows nobody had acknowledged, ${doubleRows} clientMessageIds with two rows, ${verdict.seqGaps} seq gaps`;
      console.log(senderSide);
      for (const example of verdict.examples) console.log(`  ${example}`);

      const problems = verdict.ackedMissing + verdict.unsent + verdict.unacknowledgedRows + doubleRows + verdict.seqGaps + verdict.unknown;
      failed = verdict.lost + verdict.duplicated + verdict.outOfOrder + problems > 0;
      console.log(
        `\nSUMMARY chaos: lost ${verdict.lost}, duplicated ${verdict.duplicated}, out of order ${verdict.outOfOrder} ` +
          `(${userCount} clients, ${verdict.acked} messages acknowledged and stored once${problems ? ` BUT ${problems} sender-side problem(s)` : ""}, ` +
          `${verdict.checked} deliveries checked; ${killCount} SIGKILLs, ${droppedSockets} sockets dropped, ${redisCount} Redis restart(s), ` +
          `${totals.reconnects} reconnects, ${totals.resends} resends)`,
      );
    } finally {
      await pool.end();
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
    await Promise.all(instances.map((instance) => instance?.stop()));
    await redis?.stop();
    await database.drop();
    stopKillingOnExit();
  }
  if (failed) process.exit(1);
}

interface Verdict {
  header: string[];
  rows: (string | number)[][];
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Received messages the database does not have. */
  unknown: number;
  checked: number;
  acked: number;
  ackedMissing: number;
  unsent: number;
  unacknowledgedRows: number;
  seqGaps: number;
  examples: string[];
}

function compare(input: {
  stored: StoredMessage[];
  baseline: Map<string, number>;
  reports: ChaosClientReport[];
  conversationsOf: Map<string, string[]>;
  label: Map<string, string>;
  specs: ChaosClientSpec[];
}): Verdict {
  const { stored, baseline, reports, conversationsOf, label } = input;
  const byConversation = new Map<string, StoredMessage[]>();
  for (const row of stored) {
    if (row.seq <= baseline.get(row.conversation_id)!) continue;
    let list = byConversation.get(row.conversation_id);
    if (!list) byConversation.set(row.conversation_id, (list = []));
    list.push(row);
  }
  const byId = new Map(stored.map((row) => [row.id, row]));
  const examples: string[] = [];
  const example = (line: string) => {
    if (examples.length < 10) examples.push(line);
  };
  const verdict: Verdict = {
    header: ["client", "home", "sent", "resends", "received", "lost", "dup", "out of order", "reconnects", "no cursor", "replayed", "sub errors"],
    rows: [],
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    unknown: 0,
    checked: 0,
    acked: 0,
    ackedMissing: 0,
    unsent: 0,
    unacknowledgedRows: 0,
    seqGaps: 0,
    examples,
  };
  const homeOf = new Map(input.specs.map((spec) => [spec.userId, INSTANCE_NAMES[spec.home]!]));

  for (const report of reports) {
    const name = label.get(report.userId)!;
    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    for (const conversationId of conversationsOf.get(report.userId)!) {
      const arrivals = report.received.filter(([c]) => c === conversationId);
      const seen = new Set<string>();
      let highest = 0;
      for (const [, id, seq] of arrivals) {
        if (seen.has(id)) {
          duplicated += 1;
          example(`${name} received message seq ${seq} of ${conversationId.slice(0, 8)} twice`);
          continue;
        }
        seen.add(id);
        if (!byId.has(id)) {
          verdict.unknown += 1;
          example(`${name} received message ${id}, which the database does not have`);
        }
        if (seq <= highest) {
          outOfOrder += 1;
          example(`${name} received seq ${seq} of ${conversationId.slice(0, 8)} after seq ${highest}`);
        }
        highest = Math.max(highest, seq);
      }
      for (const row of byConversation.get(conversationId) ?? []) {
        if (seen.has(row.id)) continue;
        lost += 1;
        example(`${name} never received seq ${row.seq} of ${conversationId.slice(0, 8)}`);
      }
      verdict.checked += byConversation.get(conversationId)?.length ?? 0;
    }
    verdict.lost += lost;
    verdict.duplicated += duplicated;
    verdict.outOfOrder += outOfOrder;
    verdict.unsent += report.unsent;
    verdict.rows.push([
      name,
      homeOf.get(report.userId)!,
      report.acked.length,
      report.resends,
      report.received.length,
      lost,
      duplicated,
      outOfOrder,
      report.reconnects,
      report.resumedWithoutCursor,
      report.replayed,
      report.subscriptionErrors,
    ]);
  }
  verdict.rows.sort((x, y) => String(x[0]).localeCompare(String(y[0])));

  // The sender side: what was acknowledged is stored once, as sent; nothing else is stored.
  const acknowledged = new Set<string>();
  for (const report of reports) {
    for (const ack of report.acked) {
      verdict.acked += 1;
      acknowledged.add(`${report.userId}|${ack.clientMessageId}`);
      const row = byId.get(ack.messageId);
      if (
        !row ||
        row.sender_id !== report.userId ||
        row.client_message_id !== ack.clientMessageId ||
        row.content !== ack.content ||
        row.conversation_id !== ack.conversationId ||
        row.seq !== ack.seq
      ) {
        verdict.ackedMissing += 1;
        example(`${label.get(report.userId)}'s acknowledged ${ack.clientMessageId} is not stored as acknowledged`);
      }
    }
  }
  for (const rows of byConversation.values()) {
    let previous = baseline.get(rows[0]!.conversation_id)!;
    for (const row of rows) {
      if (row.client_message_id && !acknowledged.has(`${row.sender_id}|${row.client_message_id}`)) {
        verdict.unacknowledgedRows += 1;
        example(`seq ${row.seq} of ${row.conversation_id.slice(0, 8)} is stored but its sender never had it acknowledged`);
      }
      if (row.seq !== previous + 1) {
        verdict.seqGaps += 1;
        example(`${row.conversation_id.slice(0, 8)} has seq ${row.seq} after ${previous}`);
      }
      previous = row.seq;
    }
  }
  return verdict;
}
