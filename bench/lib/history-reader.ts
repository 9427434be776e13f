// The `history` scenario's reader process (forked by bench/lib/history-reads.ts): it
// asks for history pages and the heavy user's conversation list at fixed rates
// whatever the answers (open loop) and times each request, in one of three modes:
// - "app": real tRPC clients over WebSocket, one per signed-in reader, as a browser tab would;
// - "sql": the statements the app sends for the same requests (as Prisma logs them,
//   one round trip each, in the same order), straight through `pg`;
// - "sql-core": only the one query that does the work (the keyset page; the list query).
// All modes draw the same requests from the same seeded sequence.
import { createTRPCClient, createWSClient, wsLink, type TRPCClient } from "@trpc/client";
import pg from "pg";
import superjson from "superjson";
import WebSocket from "ws";
import type { AppRouter } from "~/server/trpc/root";
import { TRPC_WS_PATH } from "~/trpc/shared";
import { seededRandom } from "./seeded-random";

export type ReadMode = "app" | "sql" | "sql-core";
export interface ReaderUser {
  id: string;
  cookie: string;
}
export type ReaderCommand =
  | {
      type: "setup";
      mode: ReadMode;
      serverUrl: string;
      origin: string;
      databaseUrl: string;
      readers: ReaderUser[];
      heavy: ReaderUser;
      large: { id: string; lastSeq: number }[];
      /** Connections of the "sql" modes' pool: the app server's pool size. */
      poolSize: number;
    }
  | { type: "run"; pageRate: number; listRate: number; durationMs: number; drainMs: number; seed: number }
  | { type: "close" };
export interface ReaderResult {
  type: "result";
  /** ms per request, by kind. */
  page: number[];
  listFirst: number[];
  listDeep: number[];
  errors: number;
  firstError: string | null;
  /** Requests still unanswered when the drain time ran out. */
  unanswered: number;
  cpuPercent: number;
  maxTimerLagMs: number;
}

export const PAGE_SIZE = 50;
export const LIST_PAGE_SIZE = 20;
/** The conversation service's cap on a counted unread total. */
const UNREAD_COUNT_CAP = 999;

const now = () => performance.now();
const send = (message: unknown) => process.send?.(message);

interface Reads {
  /** Resolves to the number of messages returned. */
  page(readerIndex: number, conversationId: string, beforeSeq: number): Promise<number>;
  list(cursor: string | null): Promise<{ count: number; nextCursor: string | null }>;
  close(): Promise<void>;
}

function connectApp(serverUrl: string, origin: string, user: ReaderUser) {
  const headers = { cookie: user.cookie, origin };
  class HeaderWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  const wsClient = createWSClient({
    url: `${serverUrl.replace(/^http/, "ws")}${TRPC_WS_PATH}`,
    WebSocket: HeaderWebSocket as unknown as typeof globalThis.WebSocket,
  });
  const api: TRPCClient<AppRouter> = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient, transformer: superjson })] });
  return { api, close: () => wsClient.close() };
}

function appReads(command: Extract<ReaderCommand, { type: "setup" }>): Reads {
  const readers = command.readers.map((user) => connectApp(command.serverUrl, command.origin, user));
  const heavy = connectApp(command.serverUrl, command.origin, command.heavy);
  return {
    async page(readerIndex, conversationId, beforeSeq) {
      const result = await readers[readerIndex]!.api.messages.list.query({ conversationId, beforeSeq, limit: PAGE_SIZE });
      return result.items.length;
    },
    async list(cursor) {
      const result = await heavy.api.conversations.list.query({ cursor, limit: LIST_PAGE_SIZE });
      return { count: result.items.length, nextCursor: result.nextCursor };
    },
    async close() {
      await Promise.all([...readers, heavy].map((client) => client.close()));
    },
  };
}

// The statements the app sends for messages.list and conversations.list
// (src/features/messages/messages.service.ts, src/features/conversations/conversations.service.ts),
// copied with their parameters in the same order, one round trip each. Keep them in
// step with the services, or the "SQL: the app's statements" row measures something else.
const APP_PAGE_SQL = `
    SELECT c.last_seq, m.id, m.conversation_id, m.seq, m.sender_id, m.type::text AS type, m.content, m.metadata,
           m.client_message_id, m.created_at, m.edited_at, m.deleted_at,
           u.id AS sender_user_id, u.name AS sender_name, u.image AS sender_image,
           COALESCE((SELECT json_agg(json_build_object('emoji', r.emoji, 'userId', r.user_id, 'createdAt', r.created_at) ORDER BY r.created_at)
                       FROM reactions r WHERE r.message_id = m.id), '[]'::json) AS reactions
      FROM conversation_participants p
      JOIN conversations c ON c.id = p.conversation_id
      LEFT JOIN LATERAL (
        SELECT m.* FROM messages m
         WHERE m.conversation_id = p.conversation_id AND m.seq < $1
         ORDER BY m.seq DESC
         LIMIT $2
      ) m ON true
      LEFT JOIN users u ON u.id = m.sender_id
     WHERE p.conversation_id = $3::uuid AND p.user_id = $4::uuid AND p.left_at IS NULL
     ORDER BY m.seq DESC`;
/** The keyset scan alone (as Prisma's query log printed it when messages.list was built with Prisma). */
const PAGE_SQL = `SELECT "public"."messages"."id", "public"."messages"."conversation_id", "public"."messages"."seq", "public"."messages"."sender_id", "public"."messages"."type"::text, "public"."messages"."content", "public"."messages"."metadata", "public"."messages"."client_message_id", "public"."messages"."created_at", "public"."messages"."edited_at", "public"."messages"."deleted_at" FROM "public"."messages" WHERE ("public"."messages"."conversation_id" = $1 AND "public"."messages"."seq" < $2) ORDER BY "public"."messages"."seq" DESC LIMIT $3 OFFSET $4`;
const MEMBERS_SQL = `
        SELECT p.conversation_id, u.id, u.name, u.image, p.last_delivered_seq, p.last_read_seq
          FROM conversation_participants p
          JOIN users u ON u.id = p.user_id
         WHERE p.conversation_id = ANY($1::uuid[]) AND p.left_at IS NULL
         ORDER BY p.joined_at`;
const listSql = (after: boolean) => `
    SELECT c.id, c.type::text AS type, c.name, c.created_by_id, c.last_seq, c.last_message_at, c.last_message_preview,
           c.last_message_sender_id, c.created_at, COALESCE(c.last_message_at, c.created_at) AS activity_at,
           p.last_read_seq, p.muted,
           (SELECT count(*) FROM (
              SELECT 1 FROM messages m
               WHERE m.conversation_id = c.id AND m.seq > p.last_read_seq AND m.type = 'TEXT'
                 AND m.deleted_at IS NULL AND m.sender_id IS DISTINCT FROM p.user_id
               LIMIT $1) unread_rows)::int AS unread
      FROM conversation_participants p
      JOIN conversations c ON c.id = p.conversation_id
     WHERE p.user_id = $2::uuid AND p.left_at IS NULL ${after ? "AND (COALESCE(c.last_message_at, c.created_at), c.id) < ($3, $4::uuid)" : ""}
     ORDER BY activity_at DESC, c.id DESC
     LIMIT ${after ? "$5" : "$3"}`;

/** The app's page cursor: the last row's activity time and id. */
const encodeCursor = (row: { activity_at: Date; id: string }) => Buffer.from(`${row.activity_at.toISOString()}|${row.id}`).toString("base64url");
function decodeCursor(cursor: string): [Date, string] {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  return [new Date(at!), id!];
}

function sqlReads(command: Extract<ReaderCommand, { type: "setup" }>, core: boolean): Reads {
  // Connections stay open between slots, as the app server's pool keeps them under load.
  const pool = new pg.Pool({ connectionString: command.databaseUrl, max: command.poolSize, idleTimeoutMillis: 0 });
  const readerIds = command.readers.map((reader) => reader.id);
  return {
    async page(readerIndex, conversationId, beforeSeq) {
      if (core) {
        const { rows } = await pool.query(PAGE_SQL, [conversationId, beforeSeq, PAGE_SIZE + 1, 0]);
        return Math.min(rows.length, PAGE_SIZE);
      }
      const { rows } = await pool.query<{ id: string | null }>(APP_PAGE_SQL, [beforeSeq, PAGE_SIZE + 1, conversationId, readerIds[readerIndex]]);
      if (rows.length === 0) throw new Error("not a member");
      return Math.min(rows.filter((row) => row.id !== null).length, PAGE_SIZE);
    },
    async list(cursor) {
      const values: unknown[] = cursor ? [UNREAD_COUNT_CAP, command.heavy.id, ...decodeCursor(cursor), LIST_PAGE_SIZE + 1] : [UNREAD_COUNT_CAP, command.heavy.id, LIST_PAGE_SIZE + 1];
      const { rows } = await pool.query<{ id: string; activity_at: Date }>(listSql(cursor !== null), values);
      const page = rows.slice(0, LIST_PAGE_SIZE);
      const nextCursor = rows.length > LIST_PAGE_SIZE ? encodeCursor(page[page.length - 1]!) : null;
      if (!core && page.length) await pool.query(MEMBERS_SQL, [page.map((row) => row.id)]);
      return { count: page.length, nextCursor };
    },
    close: () => pool.end(),
  };
}


let setupCommand: Extract<ReaderCommand, { type: "setup" }>;
let reads: Reads;
/** Cursors of the heavy user's list pages after the first, for the deeper-page requests. */
let cursors: string[] = [];

async function setup(command: Extract<ReaderCommand, { type: "setup" }>) {
  setupCommand = command;
  reads = command.mode === "app" ? appReads(command) : sqlReads(command, command.mode === "sql-core");
  // Walking the whole list once also opens every connection before anything is timed.
  cursors = [];
  for (let cursor: string | null = null, pages = 0; pages === 0 || cursor !== null; pages += 1) {
    const page: { nextCursor: string | null } = await reads.list(cursor);
    cursor = page.nextCursor;
    if (cursor) cursors.push(cursor);
  }
  await Promise.all(command.readers.map((_, index) => reads.page(index, command.large[0]!.id, command.large[0]!.lastSeq + 1)));
  send({ type: "ready", listPages: cursors.length + 1 });
}

async function run(command: Extract<ReaderCommand, { type: "run" }>) {
  const rand = seededRandom(command.seed);
  const result: ReaderResult = {
    type: "result", page: [], listFirst: [], listDeep: [], errors: 0, firstError: null, unanswered: 0, cpuPercent: 0, maxTimerLagMs: 0,
  };
  const fail = (error: unknown) => {
    result.errors += 1;
    result.firstError ??= error instanceof Error ? error.message : String(error);
  };
  const inFlight = new Set<Promise<void>>();
  const track = (promise: Promise<void>) => {
    const tracked = promise.catch(fail).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  const { readers, large } = setupCommand;
  const totalPages = Math.round((command.pageRate * command.durationMs) / 1000);
  const totalLists = Math.round((command.listRate * command.durationMs) / 1000);
  let pages = 0;
  let lists = 0;
  const cpuStart = process.cpuUsage();
  const startedAt = now();
  await new Promise<void>((resolve) => {
    let expectedTickAt = now();
    const tick = () => {
      const at = now();
      result.maxTimerLagMs = Math.max(result.maxTimerLagMs, at - expectedTickAt);
      const elapsed = at - startedAt;
      for (const due = Math.min(totalPages, Math.floor((elapsed * command.pageRate) / 1000)); pages < due; pages += 1) {
        const conversation = large[Math.floor(rand() * large.length)]!;
        // A full page: at least PAGE_SIZE messages below the seq.
        const beforeSeq = Math.max(2, PAGE_SIZE + 1 + Math.ceil(rand() * (conversation.lastSeq - PAGE_SIZE)));
        const readerIndex = pages % readers.length;
        const sentAt = now();
        track(
          reads.page(readerIndex, conversation.id, beforeSeq).then((count) => {
            if (count !== Math.min(PAGE_SIZE, beforeSeq - 1)) throw new Error(`a page of ${count} messages before seq ${beforeSeq}`);
            result.page.push(now() - sentAt);
          }),
        );
      }
      for (const due = Math.min(totalLists, Math.floor((elapsed * command.listRate) / 1000)); lists < due; lists += 1) {
        // Every other list request is the first page; the others a later page, as when scrolling.
        const deep = lists % 2 === 1 && cursors.length > 0;
        const cursor = deep ? cursors[Math.floor(rand() * cursors.length)]! : null;
        const sentAt = now();
        track(
          reads.list(cursor).then(({ count }) => {
            if (count === 0 || (!deep && count !== LIST_PAGE_SIZE)) throw new Error(`a list page of ${count} conversations`);
            (deep ? result.listDeep : result.listFirst).push(now() - sentAt);
          }),
        );
      }
      if (pages >= totalPages && lists >= totalLists) return resolve();
      expectedTickAt = now() + 1;
      setTimeout(tick, 1);
    };
    tick();
  });
  const drainUntil = now() + command.drainMs;
  while (inFlight.size > 0 && now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 10));
  result.unanswered = inFlight.size;
  const cpu = process.cpuUsage(cpuStart);
  result.cpuPercent = ((cpu.user + cpu.system) / 1000 / (now() - startedAt)) * 100;
  send(result);
}

process.on("message", (command: ReaderCommand) => {
  if (command.type === "setup") void setup(command).catch((error: unknown) => send({ type: "error", message: String(error) }));
  else if (command.type === "run") void run(command).catch((error: unknown) => send({ type: "error", message: String(error) }));
  else void (reads?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
send({ type: "started" });
