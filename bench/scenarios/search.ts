import { availableParallelism, cpus } from "node:os";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import { encode } from "next-auth/jwt";
import pg from "pg";
import superjson from "superjson";
import WebSocket from "ws";
import { searchMessages } from "~/features/search/message-search.service";
import { MAX_RANKED_CANDIDATES, type SearchMessagesOutput } from "~/features/search/contracts";
import { createDatabase, type Database } from "~/server/db/client";
import type { AppRouter } from "~/server/trpc/root";
import { TRPC_WS_PATH } from "~/trpc/shared";
import { numberOption } from "../lib/args";
import { adminUrl, postgresVersion } from "../lib/database";
import { checkHistory, heavyEmail, LARGE_GROUP_MEMBERS, readHistoryLayout, seedHistory, historyShapeOption } from "../lib/history-seed";
import { openScenarioDatabase, seedOnce } from "../lib/kept-database";
import { seededRandom } from "../lib/seeded-random";
import { BENCH_ORIGIN, BENCH_SECRET, startAppServer, type ServerProcess } from "../lib/servers";
import { ms, summarize, table } from "../lib/stats";

// `search`: message search latency over millions of messages. The history of the
// `history` scenario, with messages made of words from a vocabulary whose k-th
// word is about 1/k as frequent as the first (as in real text), then searches of
// several kinds (a rare word, a common one, two words, a phrase, OR, -exclusion)
// in several scopes (inside one conversation; across all of a user's, for the
// heavy user in 1,000 conversations and for users in a handful). Each search is
// timed one at a time (closed loop: latency, not throughput) on two paths: the
// product end to end (tRPC over WebSocket, `messages.search`), and its search
// service called in process through Prisma (the database's share, without the
// transport). Targets (issue 7): p95 < 20 ms inside one conversation, < 150 ms
// across all of a user's conversations.

type Scope = "in a large group" | "in a direct conversation" | "all, heavy user" | "all, typical user";
const SCOPES: Scope[] = ["in a large group", "in a direct conversation", "all, heavy user", "all, typical user"];
const KINDS = ["rare word", "medium word", "common word", "two words", "phrase", "either OR", "word -word"] as const;
type Kind = (typeof KINDS)[number];
const TARGET_MS: Record<Scope, number> = {
  "in a large group": 20,
  "in a direct conversation": 20,
  "all, heavy user": 150,
  "all, typical user": 150,
};

/** Pronounceable made-up words, none an English stop word; the same list for the same size. */
function makeVocabulary(size: number): string[] {
  const onsets = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "kr", "st", "tr"];
  const vowels = ["a", "e", "i", "o", "u", "ai", "ou"];
  const codas = ["", "", "n", "r", "l", "s", "k", "m"];
  const rand = seededRandom(77);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 2 + Math.floor(rand() * 2);
    let word = "";
    for (let i = 0; i < syllables; i += 1) word += pick(onsets) + pick(vowels) + (i === syllables - 1 ? pick(codas) : "");
    words.add(word);
  }
  return [...words];
}

/** A vocabulary word of rank in [from, to), log-uniform like the text itself. */
function wordBetween(vocabulary: string[], rand: () => number, from: number, to: number): string {
  const rank = Math.floor(Math.exp(Math.log(from) + rand() * (Math.log(Math.min(to, vocabulary.length)) - Math.log(from))));
  return vocabulary[rank - 1]!;
}

function queryOf(kind: Kind, vocabulary: string[], rand: () => number): string {
  const rare = () => wordBetween(vocabulary, rand, 2_000, vocabulary.length);
  const medium = () => wordBetween(vocabulary, rand, 100, 2_000);
  const common = () => wordBetween(vocabulary, rand, 5, 100);
  switch (kind) {
    case "rare word":
      return rare();
    case "medium word":
      return medium();
    case "common word":
      return common();
    case "two words":
      return `${common()} ${medium()}`;
    case "phrase":
      return `"${common()} ${common()}"`;
    case "either OR":
      return `${medium()} OR ${medium()}`;
    case "word -word":
      return `${medium()} -${common()}`;
  }
}

interface Request {
  scope: Scope;
  kind: Kind;
  userId: string;
  conversationId?: string;
  query: string;
}

type Timings = Map<string, number[]>;
const keyOf = (scope: Scope, kind: Kind | "all") => `${scope}|${kind}`;

function record(timings: Timings, request: Request, elapsed: number) {
  for (const key of [keyOf(request.scope, request.kind), keyOf(request.scope, "all")]) {
    const list = timings.get(key) ?? [];
    list.push(elapsed);
    timings.set(key, list);
  }
}

export async function runSearch(options: Map<string, string>): Promise<void> {
  const vocabularySize = numberOption(options, "vocabulary", 50_000);
  const shape = historyShapeOption(options);
  const perKind = numberOption(options, "queries", 40);
  const seedConnections = numberOption(options, "seed-connections", 2);
  const keep = options.get("keep");
  console.log(
    `search: ${shape.messages.toLocaleString("en-US")} messages of ${vocabularySize.toLocaleString("en-US")} words in ` +
      `${shape.conversations.toLocaleString("en-US")} conversations (${shape.large} large groups hold ${Math.round(shape.largeShare * 100)}%), ` +
      `${shape.users.toLocaleString("en-US")} users, the heavy user in ${shape.heavyConversations}; ${perKind} searches per kind and scope, ` +
      `one at a time; ${cpus()[0]?.model ?? "?"} x${availableParallelism()}, Node ${process.version}, PostgreSQL ${await postgresVersion(adminUrl())}`,
  );
  const vocabulary = makeVocabulary(vocabularySize);
  const database = await openScenarioDatabase("search", keep);
  let server: ServerProcess | undefined;
  let direct: Database | undefined;
  try {
    server = await startAppServer(database.url);
    await seedOnce(database, JSON.stringify({ ...shape, vocabulary: vocabularySize }), {
      hasRows: async () => (await countUsers(database.url)) > 0,
      seed: async () => {
        console.log(`\nSeeding ${database.name} (${seedConnections} connections):`);
        const report = await seedHistory(database.url, { ...shape, vocabulary }, seedConnections, (line) => console.log(line));
        console.log(
          `Seeded ${report.messages.toLocaleString("en-US")} messages in ${report.seconds.toFixed(0)} s; ` +
            `VACUUM ANALYZE + CHECKPOINT ${report.vacuumSeconds.toFixed(0)} s`,
        );
        const broken = Object.entries(await checkHistory(database.url)).filter(([, count]) => count !== 0);
        if (broken.length) throw new Error(`the seed broke invariants: ${broken.map(([what, count]) => `${what}: ${count}`).join(", ")}`);
      },
    });
    const layout = await readHistoryLayout(database.url);
    // Past the large groups' members and the heavy user's direct partners: users in a few small groups only.
    const typicalUsers = await typicalUserIds(database.url, Math.max(LARGE_GROUP_MEMBERS, shape.heavyConversations - shape.large), 20);
    if (typicalUsers.length === 0) throw new Error("--users leaves no typical users (members of small groups only)");
    console.log(
      `${layout.messageCount.toLocaleString("en-US")} messages stored; the heavy user is in ${layout.heavyConversationCount} conversations ` +
        `(${(await visibleMessages(database.url, layout.heavyId)).toLocaleString("en-US")} messages); typical users see ` +
        `${(await visibleMessages(database.url, typicalUsers[0]!)).toLocaleString("en-US")} messages or so; ${await indexSize(database.url)}`,
    );

    // The same requests, in the same order, for both paths.
    const rand = seededRandom(42);
    const requests: Request[] = [];
    for (let i = 0; i < perKind; i += 1) {
      for (const kind of KINDS) {
        for (const scope of SCOPES) {
          const query = queryOf(kind, vocabulary, rand);
          if (scope === "in a large group") {
            const group = layout.large[Math.floor(rand() * layout.large.length)]!;
            requests.push({ scope, kind, query, userId: layout.heavyId, conversationId: group.id });
          } else if (scope === "in a direct conversation") {
            const chat = layout.heavyDirects[Math.floor(rand() * layout.heavyDirects.length)]!;
            requests.push({ scope, kind, query, userId: layout.heavyId, conversationId: chat.id });
          } else if (scope === "all, heavy user") {
            requests.push({ scope, kind, query, userId: layout.heavyId });
          } else {
            requests.push({ scope, kind, query, userId: typicalUsers[Math.floor(rand() * typicalUsers.length)]! });
          }
        }
      }
    }

    // A live installation keeps its messages in memory; right after a seed (or on a
    // new machine) they are on disk. The table and its indexes are read once into
    // the OS cache (pg_prewarm's "read"), then a pass of other queries warms the rest.
    const prewarmAt = performance.now();
    await withClient(database.url, async (client) => {
      await client.query("CREATE EXTENSION IF NOT EXISTS pg_prewarm");
      await client.query(
        `SELECT pg_prewarm(c.oid::regclass, 'read') FROM pg_class c
          WHERE c.relname IN ('messages', 'messages_search_idx', 'messages_created_at_idx', 'messages_conversation_id_seq_key',
                              'conversation_participants', 'conversation_participants_user_id_left_at_idx')`,
      );
    });
    console.log(`Read the messages table and its indexes into the OS cache in ${((performance.now() - prewarmAt) / 1000).toFixed(0)} s`);
    direct = createDatabase(database.url, { poolSize: 2 });
    const deps = { prisma: direct.prisma, realtime: { publish: async () => undefined } };
    const warm = seededRandom(7);
    for (let i = 0; i < 60; i += 1) {
      const request = requests[Math.floor(warm() * requests.length)]!;
      await searchMessages(deps, { id: request.userId } as never, { query: queryOf("medium word", vocabulary, warm), sort: "relevance", limit: 20, conversationId: request.conversationId });
    }

    const hits = new Map<string, number[]>();
    const capped = new Map<string, number>();
    const serviceTimings: Timings = new Map();
    const slowest: { ms: number; request: Request }[] = [];
    let failures = 0;
    let firstFailure = "";
    // A search stopped by the statement timeout is an answer ("too broad"); anything else is a fault.
    let faults = 0;
    const noteFailure = (request: Request, error: unknown) => {
      failures += 1;
      const message = (error as Error).message;
      if (!message.includes("too much to finish in time")) faults += 1;
      firstFailure ||= `${request.scope} / ${request.query}: ${message}`;
    };
    for (const request of requests) {
      const at = performance.now();
      let result: SearchMessagesOutput | undefined;
      try {
        result = await searchMessages(deps, { id: request.userId } as never, {
          query: request.query,
          conversationId: request.conversationId,
          sort: "relevance",
          limit: 20,
        });
      } catch (error) {
        noteFailure(request, error);
      }
      const elapsed = performance.now() - at;
      record(serviceTimings, request, elapsed);
      slowest.push({ ms: elapsed, request });
      const key = keyOf(request.scope, request.kind);
      const list = hits.get(key) ?? [];
      list.push(result?.items.length ?? 0);
      hits.set(key, list);
      if (result?.rankedNewest) capped.set(key, (capped.get(key) ?? 0) + 1);
    }

    const appTimings: Timings = new Map();
    const clients = new Map<string, { client: ReturnType<typeof createTRPCClient<AppRouter>>; close: () => void }>();
    try {
      for (const request of requests) {
        let entry = clients.get(request.userId);
        if (!entry) {
          entry = await connect(server.url, request.userId);
          clients.set(request.userId, entry);
        }
        const at = performance.now();
        try {
          await entry.client.messages.search.query({ query: request.query, conversationId: request.conversationId, limit: 20 });
        } catch (error) {
          noteFailure(request, error);
        }
        record(appTimings, request, performance.now() - at);
      }
    } finally {
      for (const entry of clients.values()) entry.close();
    }

    const rows: (string | number)[][] = [];
    for (const scope of SCOPES) {
      for (const kind of [...KINDS, "all"] as const) {
        const app = summarize(appTimings.get(keyOf(scope, kind)) ?? []);
        const service = summarize(serviceTimings.get(keyOf(scope, kind)) ?? []);
        const found = kind === "all" ? [] : (hits.get(keyOf(scope, kind)) ?? []);
        rows.push([
          kind === "all" ? `${scope}: ALL` : `  ${kind}`,
          kind === "all" ? "" : `${found.filter((n) => n > 0).length}/${found.length}`,
          kind === "all" ? "" : String(capped.get(keyOf(scope, kind)) ?? 0),
          ms(app.p50),
          ms(app.p95),
          ms(app.max),
          ms(service.p50),
          ms(service.p95),
        ]);
      }
    }
    console.log(
      `\n${table(["scope / query", "found", "capped", "app p50", "app p95", "app max", "service p50", "service p95"], rows)}` +
        `\n("found": searches with at least one hit; "capped": searches matching more than the ${MAX_RANKED_CANDIDATES} newest, ` +
        `which are the ones ranked; app = tRPC over WebSocket; service = the search service through Prisma, in process)`,
    );
    slowest.sort((a, b) => b.ms - a.ms);
    console.log(
      `\nSlowest through the service:\n${slowest
        .slice(0, 5)
        .map(({ ms: elapsed, request }) => `  ${ms(elapsed)} ms  ${request.scope}, ${request.kind}: ${request.query}`)
        .join("\n")}`,
    );
    if (failures > 0) console.log(`\n${failures} searches failed; the first: ${firstFailure}`);
    const verdicts = SCOPES.map((scope) => {
      const p95 = summarize(appTimings.get(keyOf(scope, "all")) ?? []).p95;
      return `${scope} p95 ${ms(p95)} ms (${p95 < TARGET_MS[scope] ? "met" : "missed"}, target ${TARGET_MS[scope]})`;
    });
    console.log(`\nSUMMARY search: ${verdicts.join("; ")}; ${failures} failed`);
    if (faults > 0) throw new Error(`${faults} searches failed with something other than the timeout; the first failure: ${firstFailure}`);
  } finally {
    await direct?.close().catch(() => undefined);
    await server?.stop();
    await database.drop();
  }
}

async function connect(serverUrl: string, userId: string) {
  const cookie = `next-auth.session-token=${await encode({ token: { sub: userId }, secret: BENCH_SECRET, maxAge: 24 * 3600 })}`;
  const wsClient = createWSClient({
    url: `${serverUrl.replace(/^http/, "ws")}${TRPC_WS_PATH}`,
    WebSocket: class extends WebSocket {
      constructor(url: string | URL) {
        super(url, { headers: { cookie, origin: BENCH_ORIGIN } });
      }
    } as unknown as typeof globalThis.WebSocket,
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient, transformer: superjson })] });
  return { client, close: () => void wsClient.close() };
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const countUsers = (url: string) =>
  withClient(url, async (client) => (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [heavyEmail])).rows[0]!.n);

/** Users outside the large groups: members of a few small conversations, as most people are. */
const typicalUserIds = (url: string, after: number, count: number) =>
  withClient(url, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `SELECT id FROM users WHERE email LIKE 'history-%@bench.test'
          AND substring(email FROM 'history-(\\d+)@')::int > $1
        ORDER BY substring(email FROM 'history-(\\d+)@')::int LIMIT $2`,
      [after, count],
    );
    return rows.map((row) => row.id);
  });

const visibleMessages = (url: string, userId: string) =>
  withClient(url, async (client) => {
    const { rows } = await client.query<{ n: string }>(
      `SELECT sum(c.last_seq) AS n FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
        WHERE p.user_id = $1 AND p.left_at IS NULL`,
      [userId],
    );
    return Number(rows[0]?.n ?? 0);
  });

const indexSize = (url: string) =>
  withClient(url, async (client) => {
    const { rows } = await client.query<{ table: string; index: string }>(
      `SELECT pg_size_pretty(pg_table_size('messages')) AS table, pg_size_pretty(pg_relation_size('messages_search_idx')) AS index`,
    );
    return `messages ${rows[0]!.table}, search index ${rows[0]!.index}`;
  });
