import pg from "pg";
import { numberOption } from "./args";
import { seededRandom } from "./seeded-random";

// The stored history of the `history` scenario, written server-side in a few big
// statements (generate_series, no rows through the client) while keeping what the
// app relies on: per-conversation seqs gap-free from 1, each conversation's
// last_seq / last_message_* equal to its last message, a participant row and a
// founding membership (joined_event_id 0) for every member, read and delivery
// positions within last_seq. Messages are written in the order of their
// timestamps across all conversations, as live traffic would write them, so a
// conversation's history is scattered over the heap instead of lying in a few
// pages (which would flatter every read).
//
// Layout (user 0 is "the heavy user"):
// - `large` groups holding `largeShare` of the messages, with the heavy user and
//   users 1..LARGE_GROUP_MEMBERS as members: the readers page through these;
// - direct conversations of the heavy user with users 1, 2, ... up to
//   `heavyConversations` in all for the heavy user;
// - the remaining conversations: groups of three other users.
// The heavy user has unread messages in about a quarter of their conversations.
// Not written: events (replay is not measured here), receipts and reactions.

export interface HistoryShape {
  messages: number;
  conversations: number;
  users: number;
  heavyConversations: number;
  large: number;
  largeShare: number;
  /**
   * Text messages made of these words (the `search` scenario) instead of the
   * filler text: 4 to 18 words each, drawn with a Zipf-like law (the k-th word
   * about 1/k as often as the first), as words are in real text.
   */
  vocabulary?: string[];
}

/** The seed's shape from the command line (`--messages`, `--conversations`, ...), with the defaults both scenarios use. */
export function historyShapeOption(options: Map<string, string>): HistoryShape {
  return {
    messages: numberOption(options, "messages", 10_000_000),
    conversations: numberOption(options, "conversations", 20_000),
    users: numberOption(options, "users", 10_000),
    heavyConversations: numberOption(options, "heavy-conversations", 1_000),
    large: numberOption(options, "large", 100),
    largeShare: numberOption(options, "large-share", 0.5),
  };
}

/** Members of each large group besides the heavy user; readers sign in as them. */
export const LARGE_GROUP_MEMBERS = 20;
const SMALL_GROUP_MEMBERS = 3;
const DAY_SECONDS = 24 * 3600;
/** Well inside the default 90-day retention, so a retention sweep would keep it all. */
const HISTORY_DAYS = 60;
const MESSAGES_PER_CHUNK = 250_000;
const FILLER =
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim ad minim veniam";

export const heavyEmail = "history-0@bench.test";
export const userEmail = (index: number) => `history-${index}@bench.test`;
export const LARGE_NAME_PREFIX = "History large ";


interface ConversationPlan {
  idx: number[];
  type: string[];
  name: (string | null)[];
  count: number[];
  firstAt: number[];
  lastAt: number[];
  heavyUnread: number[];
  memberConversation: number[];
  memberUser: number[];
  memberOrder: number[];
}

function planConversations(shape: HistoryShape, endSeconds: number): ConversationPlan {
  if (shape.heavyConversations > shape.conversations) throw new Error("--heavy-conversations must be at most --conversations");
  if (shape.large > shape.heavyConversations) throw new Error("--large must be at most --heavy-conversations (the heavy user is in every large group)");
  if (shape.heavyConversations - shape.large > shape.users - 1) throw new Error("not enough users for the heavy user's direct conversations");
  if (shape.users <= Math.max(LARGE_GROUP_MEMBERS, SMALL_GROUP_MEMBERS)) throw new Error("--users is too small");
  const rand = seededRandom(6);
  const span = HISTORY_DAYS * DAY_SECONDS;
  const startSeconds = endSeconds - span;
  const plan: ConversationPlan = {
    idx: [], type: [], name: [], count: [], firstAt: [], lastAt: [], heavyUnread: [],
    memberConversation: [], memberUser: [], memberOrder: [],
  };
  const perLarge = shape.large > 0 ? Math.floor((shape.messages * shape.largeShare) / shape.large) : 0;
  const smallCount = shape.conversations - shape.large;
  // Skewed sizes (e^0 .. e^3 relative weights): some busy conversations, many quiet ones.
  const weights = Array.from({ length: smallCount }, () => Math.exp(3 * rand()));
  const weightSum = weights.reduce((sum, w) => sum + w, 0);
  const rest = shape.messages - perLarge * shape.large;
  const smallCounts = weights.map((w) => Math.max(1, Math.floor((rest * w) / weightSum)));
  let missing = rest - smallCounts.reduce((sum, n) => sum + n, 0);
  for (let i = 0; missing > 0 && smallCounts.length > 0; i = (i + 1) % smallCounts.length, missing -= 1) smallCounts[i]! += 1;

  const addMembers = (conversation: number, users: number[]) =>
    users.forEach((user, order) => {
      plan.memberConversation.push(conversation);
      plan.memberUser.push(user);
      plan.memberOrder.push(order + 1);
    });
  for (let c = 0; c < shape.conversations; c += 1) {
    const isLarge = c < shape.large;
    const isHeavyDirect = !isLarge && c < shape.heavyConversations;
    const count = isLarge ? perLarge : smallCounts[c - shape.large]!;
    // Large groups run the whole period; others start at various times and some went quiet.
    const firstAt = isLarge ? startSeconds + rand() * DAY_SECONDS : startSeconds + rand() * 0.6 * span;
    const lastAt = isLarge ? endSeconds - rand() * 3600 : Math.max(firstAt + 3600, endSeconds - rand() ** 3 * 0.35 * span);
    plan.idx.push(c);
    plan.type.push(isHeavyDirect ? "DIRECT" : "GROUP");
    plan.name.push(isLarge ? `${LARGE_NAME_PREFIX}${c}` : isHeavyDirect ? null : `History group ${c}`);
    plan.count.push(Math.max(1, count));
    plan.firstAt.push(firstAt);
    plan.lastAt.push(lastAt);
    plan.heavyUnread.push(rand() < 0.25 ? 1 + Math.floor(rand() * 40) : 0);
    if (isLarge) addMembers(c, Array.from({ length: LARGE_GROUP_MEMBERS + 1 }, (_, i) => i));
    else if (isHeavyDirect) addMembers(c, [0, c - shape.large + 1]);
    else {
      const others = shape.users - 1;
      const step = Math.floor(others / SMALL_GROUP_MEMBERS);
      addMembers(c, Array.from({ length: SMALL_GROUP_MEMBERS }, (_, k) => 1 + ((c + k * step) % others)));
    }
  }
  return plan;
}

// One expression each for a message's fields, used for the messages and again for
// their conversation's last_message_* (both must agree). `c` is a plan row
// row, `s` the seq. A group's seq 1 is the system message that created it.
const isSystem = (s: string) => `(c.type = 'GROUP' AND ${s} = 1)`;
const senderOf = (s: string) => `CASE WHEN ${isSystem(s)} THEN NULL ELSE c.members[1 + ${s} % cardinality(c.members)] END`;
/** A deterministic number in [0, 1) for (conversation, seq, k): the same message gets the same words wherever it is computed. */
const uniform = (s: string, k: string) => `((hashint8(c.idx::bigint * 1000003 + ${s}::bigint * 131 + ${k}) & 2147483647) / 2147483648.0)`;
/** The words of message `s` of conversation `c`: word ids log-uniform in 1..n (density 1/k, Zipf's law with exponent 1). */
const wordsOf = (s: string) =>
  `(SELECT string_agg(w.word, ' ' ORDER BY k) FROM generate_series(1, 4 + floor(${uniform(s, "0")} * 15)::int) k ` +
  `JOIN ${WORDS_TABLE} w ON w.id = least(${WORDS_TABLE}_n(), floor(exp(${uniform(s, "k")} * ln(${WORDS_TABLE}_n() + 1)))::int))`;
const contentOf = (s: string, words: boolean) =>
  `CASE WHEN ${isSystem(s)} THEN c.creator_name || ' created the group "' || c.name || '"' ` +
  (words
    ? `ELSE ${wordsOf(s)} END`
    : `ELSE rtrim('Message ' || ${s} || ' ' || left('${FILLER}', 10 + ((c.idx::bigint * 7919 + ${s}::bigint * 104729) % 110)::int)) END`);
const timeOf = (s: string) => `to_timestamp(c.first_at + (${s} - 1) * c.gap)`;

export interface SeedReport {
  seconds: number;
  messages: number;
  rows: number;
  vacuumSeconds: number;
}

/** Where the plan lives while seeding: a table of its own (every seeding connection reads it), dropped at the end. */
const PLAN_TABLE = "bench_seed_conversations";
/** The vocabulary while seeding, by id from 1 (with a function giving its size), dropped at the end. */
const WORDS_TABLE = "bench_seed_words";
/** Rebuilt after the bulk insert: one index build is far cheaper than 10M GIN insertions. */
const DEFERRED_INDEXES = ["messages_search_idx"];

export async function seedHistory(
  databaseUrl: string,
  shape: HistoryShape,
  connections: number,
  log: (line: string) => void,
): Promise<SeedReport> {
  const connect = async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    // Nothing here needs to survive a crash (a failed seed is dropped), and every row is
    // consistent by construction (checked by the scenario's invariant queries), so
    // neither commit flushes nor foreign-key triggers are paid per row.
    await client.query("SET synchronous_commit = off");
    await client.query("SET session_replication_role = replica");
    return client;
  };
  const client = await connect();
  const startedAt = performance.now();
  let rows = 0;
  const step = async (label: string, sql: string, values: unknown[] = []) => {
    const at = performance.now();
    const result = await client.query(sql, values);
    rows += result.rowCount ?? 0;
    log(`  ${label}: ${(result.rowCount ?? 0).toLocaleString("en-US")} rows in ${((performance.now() - at) / 1000).toFixed(1)} s`);
  };
  const words = shape.vocabulary !== undefined;
  try {
    const endSeconds = Date.now() / 1000 - 60;
    const plan = planConversations(shape, endSeconds);
    if (shape.vocabulary) {
      await client.query(`DROP TABLE IF EXISTS ${WORDS_TABLE} CASCADE`);
      await client.query(
        `CREATE UNLOGGED TABLE ${WORDS_TABLE} AS SELECT i::int AS id, w AS word FROM unnest($1::text[]) WITH ORDINALITY AS t(w, i)`,
        [shape.vocabulary],
      );
      await client.query(`ALTER TABLE ${WORDS_TABLE} ADD PRIMARY KEY (id)`);
      await client.query(
        `CREATE FUNCTION ${WORDS_TABLE}_n() RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT ${shape.vocabulary.length}'`,
      );
    }
    const deferred = await client.query<{ name: string; definition: string }>(
      `SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = 'public' AND indexname = ANY($1::text[])`,
      [DEFERRED_INDEXES],
    );
    for (const index of deferred.rows) await client.query(`DROP INDEX "${index.name}"`);
    await client.query(
      `CREATE TEMP TABLE seed_users AS SELECT i AS idx, gen_random_uuid() AS id FROM generate_series(0, $1::int - 1) i`,
      [shape.users],
    );
    await client.query("ALTER TABLE seed_users ADD PRIMARY KEY (idx)");
    await step(
      "users",
      `INSERT INTO users (id, email, name, created_at, updated_at)
       SELECT id, 'history-' || idx || '@bench.test', 'History ' || idx, to_timestamp($1), now() FROM seed_users`,
      [endSeconds - (HISTORY_DAYS + 1) * DAY_SECONDS],
    );
    await step("user_roles", `INSERT INTO user_roles (user_id, role_id) SELECT u.id, r.id FROM seed_users u, roles r WHERE r.name = 'User'`);
    await client.query(
      `CREATE TEMP TABLE seed_members AS
       SELECT m.conversation_idx, m.ord, m.user_idx, u.id AS user_id
         FROM unnest($1::int[], $2::int[], $3::int[]) AS m(conversation_idx, user_idx, ord)
         JOIN seed_users u ON u.idx = m.user_idx`,
      [plan.memberConversation, plan.memberUser, plan.memberOrder],
    );
    await client.query(`DROP TABLE IF EXISTS ${PLAN_TABLE}`);
    await client.query(
      `CREATE UNLOGGED TABLE ${PLAN_TABLE} AS
       SELECT p.idx, gen_random_uuid() AS id, p.type::"ConversationType" AS type, p.name, p.n, p.first_at,
              (p.last_at - p.first_at) / p.n AS gap, p.heavy_unread, m.members, m.creator_name
         FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::float8[], $6::float8[], $7::int[])
              AS p(idx, type, name, n, first_at, last_at, heavy_unread)
         JOIN (SELECT conversation_idx, array_agg(user_id ORDER BY ord) AS members,
                      'History ' || min(user_idx) FILTER (WHERE ord = 1) AS creator_name
                 FROM seed_members GROUP BY conversation_idx) m ON m.conversation_idx = p.idx`,
      [plan.idx, plan.type, plan.name, plan.count, plan.firstAt, plan.lastAt, plan.heavyUnread],
    );
    await client.query(`ALTER TABLE ${PLAN_TABLE} ADD PRIMARY KEY (idx)`);
    await client.query(`ANALYZE seed_users; ANALYZE seed_members; ANALYZE ${PLAN_TABLE}`);
    await step(
      "conversations",
      `INSERT INTO conversations (id, type, name, direct_key, created_by_id, last_seq, last_message_at, last_message_preview,
                                  last_message_sender_id, created_at, updated_at)
       SELECT c.id, c.type, c.name,
              CASE WHEN c.type = 'DIRECT' THEN least(c.members[1]::text COLLATE "C", c.members[2]::text) || ':' ||
                                               greatest(c.members[1]::text COLLATE "C", c.members[2]::text) END,
              c.members[1], c.n, ${timeOf("c.n")}, ${contentOf("c.n", words)}, ${senderOf("c.n")}, to_timestamp(c.first_at), now()
         FROM ${PLAN_TABLE} c`,
    );
    // The heavy user (idx 0) has read all but heavy_unread of each conversation; everyone else all of it.
    await step(
      "conversation_participants",
      `INSERT INTO conversation_participants (conversation_id, user_id, role, joined_at, last_read_seq, last_read_at,
                                              last_delivered_seq, last_delivered_at)
       SELECT c.id, m.user_id, (CASE WHEN c.type = 'GROUP' AND m.ord = 1 THEN 'OWNER' ELSE 'MEMBER' END)::"ParticipantRole",
              to_timestamp(c.first_at), r.seq, CASE WHEN r.seq > 0 THEN ${timeOf("r.seq")} END, c.n, ${timeOf("c.n")}
         FROM seed_members m
         JOIN ${PLAN_TABLE} c ON c.idx = m.conversation_idx
         CROSS JOIN LATERAL (SELECT CASE WHEN m.user_idx = 0 THEN greatest(0, c.n - c.heavy_unread) ELSE c.n END AS seq) r`,
    );
    await step(
      "conversation_memberships",
      `INSERT INTO conversation_memberships (conversation_id, user_id, joined_event_id)
       SELECT c.id, m.user_id, 0 FROM seed_members m JOIN ${PLAN_TABLE} c ON c.idx = m.conversation_idx ORDER BY c.idx, m.ord`,
    );

    // Time slices of about MESSAGES_PER_CHUNK messages, written in order by `connections`
    // sessions at once. A message's slice is decided by one expression of its seq, so
    // consecutive slices meet exactly.
    const firstAt = Math.min(...plan.firstAt);
    const lastAt = Math.max(...plan.lastAt);
    const chunks = Math.max(1, Math.ceil(shape.messages / MESSAGES_PER_CHUNK));
    const bound = (placeholder: string) => `least(c.n, greatest(0, ceil((${placeholder} - c.first_at) / c.gap)))::int`;
    const insertSlice = `
      INSERT INTO messages (conversation_id, seq, sender_id, client_message_id, type, content, metadata, created_at)
      SELECT c.id, s, ${senderOf("s")},
             CASE WHEN ${isSystem("s")} THEN NULL ELSE 'seed-' || c.idx || '-' || s END,
             (CASE WHEN ${isSystem("s")} THEN 'SYSTEM' ELSE 'TEXT' END)::"MessageType",
             ${contentOf("s", words)},
             CASE WHEN ${isSystem("s")} THEN jsonb_build_object('kind', 'group_created', 'actorId', c.members[1], 'name', c.name) END,
             ${timeOf("s")}
        FROM ${PLAN_TABLE} c
        CROSS JOIN LATERAL generate_series(${bound("$1::float8")} + 1, ${bound("$2::float8")}) s
       ORDER BY c.first_at + (s - 1) * c.gap`;
    const messagesAt = performance.now();
    let messages = 0;
    let nextChunk = 0;
    const writers = [client, ...(await Promise.all(Array.from({ length: Math.max(0, connections - 1) }, connect)))];
    try {
      await Promise.all(
        writers.map(async (writer) => {
          for (let k = nextChunk++; k < chunks; k = nextChunk++) {
            const from = k === 0 ? firstAt - 1 : firstAt + ((lastAt - firstAt) * k) / chunks;
            const to = k === chunks - 1 ? lastAt + 1 : firstAt + ((lastAt - firstAt) * (k + 1)) / chunks;
            const result = await writer.query(insertSlice, [from, to]);
            messages += result.rowCount ?? 0;
            const elapsed = (performance.now() - messagesAt) / 1000;
            log(`  messages: ${messages.toLocaleString("en-US")} of ${shape.messages.toLocaleString("en-US")} (${(messages / elapsed).toFixed(0)} rows/s)`);
          }
        }),
      );
    } finally {
      await Promise.all(writers.slice(1).map((writer) => writer.end()));
    }
    rows += messages;
    await client.query(`DROP TABLE ${PLAN_TABLE}`);
    if (words) await client.query(`DROP TABLE ${WORDS_TABLE} CASCADE; DROP FUNCTION IF EXISTS ${WORDS_TABLE}_n()`);
    for (const index of deferred.rows) {
      const at = performance.now();
      await client.query("SET maintenance_work_mem = '1GB'");
      await client.query(index.definition);
      log(`  index ${index.name}: rebuilt in ${((performance.now() - at) / 1000).toFixed(1)} s`);
    }
    const seconds = (performance.now() - startedAt) / 1000;
    // The bulk insert would otherwise bring autovacuum (and hint-bit writes on first
    // read) into the measurement; a live table of this size is kept vacuumed anyway.
    const vacuumAt = performance.now();
    await client.query("VACUUM (ANALYZE) messages, conversations, conversation_participants, conversation_memberships, users, user_roles");
    await client.query("CHECKPOINT");
    const vacuumSeconds = (performance.now() - vacuumAt) / 1000;
    return { seconds, messages, rows, vacuumSeconds };
  } finally {
    await client.end();
  }
}

/** What the scenario needs of a seeded database: read back, so a kept database serves as well. */
export interface HistoryLayout {
  heavyId: string;
  /** Users 1..LARGE_GROUP_MEMBERS: members of every large group. */
  largeMemberIds: string[];
  large: { id: string; lastSeq: number }[];
  /** The heavy user's direct conversations with the other member. */
  heavyDirects: { id: string; otherId: string }[];
  heavyConversationCount: number;
  messageCount: number;
}

export async function readHistoryLayout(databaseUrl: string): Promise<HistoryLayout> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const emails = Array.from({ length: LARGE_GROUP_MEMBERS + 1 }, (_, i) => userEmail(i));
    const users = await client.query<{ id: string; email: string }>(`SELECT id, email FROM users WHERE email = ANY($1::text[])`, [emails]);
    const idOf = new Map(users.rows.map((row) => [row.email, row.id]));
    const heavyId = idOf.get(heavyEmail);
    if (!heavyId) throw new Error("the database holds no seeded history (no heavy user)");
    const large = await client.query<{ id: string; last_seq: number }>(
      `SELECT id, last_seq FROM conversations WHERE type = 'GROUP' AND name LIKE $1 ORDER BY name`,
      [`${LARGE_NAME_PREFIX}%`],
    );
    const directs = await client.query<{ id: string; other_id: string }>(
      `SELECT p.conversation_id AS id, o.user_id AS other_id
         FROM conversation_participants p
         JOIN conversations c ON c.id = p.conversation_id AND c.type = 'DIRECT'
         JOIN conversation_participants o ON o.conversation_id = p.conversation_id AND o.user_id <> p.user_id
        WHERE p.user_id = $1
        ORDER BY o.user_id`,
      [heavyId],
    );
    // Seqs are gap-free from 1, so the last seqs add up to the number of messages.
    const counts = await client.query<{ conversations: number; messages: string }>(
      `SELECT (SELECT count(*)::int FROM conversation_participants WHERE user_id = $1 AND left_at IS NULL) AS conversations,
              (SELECT sum(last_seq) FROM conversations) AS messages`,
      [heavyId],
    );
    return {
      heavyId,
      largeMemberIds: emails.slice(1).map((email) => idOf.get(email)!),
      large: large.rows.map((row) => ({ id: row.id, lastSeq: row.last_seq })),
      heavyDirects: directs.rows.map((row) => ({ id: row.id, otherId: row.other_id })),
      heavyConversationCount: counts.rows[0]?.conversations ?? 0,
      messageCount: Number(counts.rows[0]?.messages ?? 0),
    };
  } finally {
    await client.end();
  }
}

/** Counts of rows breaking what the app relies on; all zero after a correct seed. */
export async function checkHistory(databaseUrl: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, number>>(`
      SELECT
        (SELECT count(*)::int FROM conversations c
           LEFT JOIN (SELECT conversation_id, count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM messages GROUP BY conversation_id) m
             ON m.conversation_id = c.id
          WHERE m.n IS DISTINCT FROM c.last_seq::bigint OR m.lo <> 1 OR m.hi <> c.last_seq) AS "seqs not 1..last_seq",
        (SELECT count(*)::int FROM conversations c
           LEFT JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq
          WHERE m.id IS NULL OR m.created_at <> c.last_message_at OR m.content <> c.last_message_preview
             OR m.sender_id IS DISTINCT FROM c.last_message_sender_id) AS "last_message_* not the last message",
        (SELECT count(*)::int FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
          WHERE p.last_read_seq > c.last_seq OR p.last_delivered_seq > c.last_seq) AS "positions past last_seq",
        (SELECT count(*)::int FROM conversation_participants p
           LEFT JOIN conversation_memberships m ON m.conversation_id = p.conversation_id AND m.user_id = p.user_id
          WHERE m.id IS NULL) AS "participants without membership"`);
    return rows[0]!;
  } finally {
    await client.end();
  }
}
