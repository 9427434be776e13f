import type { SessionUser } from "~/features/auth/contracts";
import { requireMessagingEnabled } from "~/features/settings/settings.service";
import { Prisma } from "~/generated/prisma/client";
import { DomainError } from "~/server/errors";
import type { ServiceDeps } from "~/server/service-deps";
import {
  MAX_RANKED_CANDIDATES,
  MAX_SEARCH_RESULTS,
  type HitConversation,
  type MessageHit,
  type MessageSearchSort,
  type SearchMessagesOutput,
} from "./contracts";
import { inSearchTransaction } from "./search-transaction";
import { MATCH_END, MATCH_START, parseHeadline, withoutMarkers } from "./snippet";

// Full-text search over the messages of the caller's conversations. Words come
// from `messages.search_vector`, a stored tsvector generated from the content
// (null for deleted and system messages, so they never match), indexed by one GIN
// index over (conversation_id, search_vector): the caller's conversations and the
// query's words are intersected inside the index, so a search costs what the
// caller can see, not what the whole installation holds.

/** The text search configuration of the generated column; a query must use the same. */
const CONFIG = "english";

/**
 * ts_headline's passage: at most 24 words around the best match. Its markers are
 * replaced by segments (snippet.ts); the content it reads has them removed.
 */
const HEADLINE_OPTIONS = `StartSel=${MATCH_START}, StopSel=${MATCH_END}, MaxWords=24, MinWords=10, ShortWord=2, HighlightAll=false`;

interface HitRow {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string | null;
  created_at: Date;
  edited_at: Date | null;
  content: string;
  rank: number;
  headline: string;
  sender_name: string | null;
  sender_image: string | null;
  conversation_type: "DIRECT" | "GROUP";
  conversation_name: string | null;
  /** Only on a conversation's first hit of the page. */
  members: { id: string; name: string; image: string | null }[] | null;
  /** How many matches were read (at most MAX_RANKED_CANDIDATES + 1: more than were ranked). */
  candidates: number;
  /** False when the query has no searchable word; then no other column is set. */
  has_terms: boolean;
}

function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString("base64url");
}

function decodeCursor(cursor: string): number {
  const match = /^o:(\d{1,6})$/.exec(Buffer.from(cursor, "base64url").toString());
  const offset = match ? Number(match[1]) : NaN;
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_SEARCH_RESULTS) {
    throw new DomainError("BAD_REQUEST", "That page cursor is not valid.");
  }
  return offset;
}

export interface MessageSearch {
  query: string;
  conversationId?: string;
  fromUserId?: string;
  after?: Date;
  before?: Date;
  sort: MessageSearchSort;
  cursor?: string | null;
  limit: number;
}

/**
 * A page of the caller's messages matching `query` (websearch syntax: words, "a
 * phrase", OR, -word), best match first (ts_rank_cd, normalized by length, ties
 * newest first) among the newest MAX_RANKED_CANDIDATES matches, or newest first
 * through all matches. Paging is by offset, up to MAX_SEARCH_RESULTS.
 */
export async function searchMessages(deps: ServiceDeps, user: SessionUser, input: MessageSearch): Promise<SearchMessagesOutput> {
  await requireMessagingEnabled(deps.prisma);
  const offset = input.cursor ? decodeCursor(input.cursor) : 0;
  const limit = Math.min(input.limit, MAX_SEARCH_RESULTS - offset);
  if (limit <= 0) return { items: [], conversations: [], nextCursor: null, noSearchableWords: false, rankedNewest: null };
  // Ranked results come from the newest MAX_RANKED_CANDIDATES matches; pages end there.
  if (input.sort === "relevance" && offset >= MAX_RANKED_CANDIDATES) {
    return { items: [], conversations: [], nextCursor: null, noSearchableWords: false, rankedNewest: MAX_RANKED_CANDIDATES };
  }

  // The parsed query is written out where it is used rather than computed once in
  // a CTE: as a constant the planner reads its words' frequencies and picks the
  // plan (walk the newest messages for a common word; the GIN index for a rare one).
  const tsquery = Prisma.sql`websearch_to_tsquery(${CONFIG}::regconfig, ${input.query})`;
  // A conversation the caller is not in is NOT_FOUND, as everywhere else. The check
  // is a condition of the statement itself (evaluated once), and read beforehand in
  // the round trip that sets up the transaction.
  const isMember = input.conversationId
    ? Prisma.sql`EXISTS (SELECT 1 FROM conversation_participants p
                  WHERE p.conversation_id = ${input.conversationId}::uuid AND p.user_id = ${user.id}::uuid AND p.left_at IS NULL)`
    : Prisma.sql`true`;
  const scope = input.conversationId
    ? Prisma.sql`m.conversation_id = ${input.conversationId}::uuid AND ${isMember}`
    : Prisma.sql`m.conversation_id IN (SELECT p.conversation_id FROM conversation_participants p WHERE p.user_id = ${user.id}::uuid AND p.left_at IS NULL)`;
  const filters = [
    input.fromUserId ? Prisma.sql`AND m.sender_id = ${input.fromUserId}::uuid` : Prisma.empty,
    input.after ? Prisma.sql`AND m.created_at >= ${input.after}` : Prisma.empty,
    input.before ? Prisma.sql`AND m.created_at < ${input.before}` : Prisma.empty,
  ];
  // Newest first: seq inside one conversation (its unique index walks backwards), the time across several.
  // Pages are cut in the same order, ties included, or a page boundary could repeat one hit and skip another.
  const newest = input.conversationId ? Prisma.sql`m.seq DESC` : Prisma.sql`m.created_at DESC, m.id DESC`;
  const newestOf = input.conversationId ? Prisma.sql`seq DESC` : Prisma.sql`created_at DESC, id DESC`;
  const relevance = input.sort === "relevance";
  const ranked = relevance ? Prisma.sql`rank DESC, ${newestOf}` : newestOf;
  // Only real words count: an empty query, or one of exclusions alone ("-foo": 'T'
  // to querytree), would match everything the index cannot narrow.
  const searchable = Prisma.sql`querytree(${tsquery}) NOT IN ('', 'T')`;

  // One statement. `matches` are the newest matching messages: for relevance the
  // MAX_RANKED_CANDIDATES newest, which are then ranked (ranking needs each row's
  // words, so ranking every match of a common word would read the whole history);
  // for newest-first the page itself. Then only the page gets its passage (ts_headline),
  // sender and, on a conversation's first hit, the conversation's members for its title.
  // A query without a searchable word is answered by one row (has_terms false).
  const rows = await inSearchTransaction(
    deps.prisma,
    deps.prisma.$queryRaw<HitRow[]>`
      WITH matches AS (
        SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.created_at, m.edited_at, m.content, m.search_vector
          FROM messages m
         WHERE ${searchable}
           AND ${scope}
           AND m.search_vector @@ ${tsquery}
           ${filters[0]} ${filters[1]} ${filters[2]}
         ORDER BY ${newest}
         LIMIT ${relevance ? MAX_RANKED_CANDIDATES + 1 : offset + limit + 1}
      ),
      pool AS (
        SELECT matches.*, row_number() OVER (ORDER BY ${newestOf}) AS newness FROM matches
      ),
      hits AS (
        SELECT id, conversation_id, seq, sender_id, created_at, edited_at, content,
               ts_rank_cd(search_vector, ${tsquery}, 1) AS rank,
               (SELECT count(*) FROM matches) AS candidates
          FROM pool
         WHERE newness <= ${relevance ? MAX_RANKED_CANDIDATES : offset + limit + 1}
         ORDER BY ${ranked}
         LIMIT ${limit + 1} OFFSET ${offset}
      ),
      page AS (
        SELECT h.*, row_number() OVER (PARTITION BY h.conversation_id ORDER BY ${ranked}) AS nth FROM hits h
      )
      SELECT h.id, h.conversation_id, h.seq, h.sender_id, h.created_at, h.edited_at, h.content, h.rank::float8 AS rank,
             h.candidates::int AS candidates,
             ts_headline(${CONFIG}::regconfig, translate(h.content, ${MATCH_START + MATCH_END}, ''), ${tsquery}, ${HEADLINE_OPTIONS}) AS headline,
             u.name AS sender_name, u.image AS sender_image,
             c.type::text AS conversation_type, c.name AS conversation_name,
             CASE WHEN h.nth = 1 THEN (
               SELECT json_agg(json_build_object('id', mu.id, 'name', mu.name, 'image', mu.image) ORDER BY mp.joined_at)
                 FROM conversation_participants mp JOIN users mu ON mu.id = mp.user_id
                WHERE mp.conversation_id = h.conversation_id AND mp.left_at IS NULL
             ) END AS members,
             true AS has_terms
        FROM page h
        JOIN conversations c ON c.id = h.conversation_id
        LEFT JOIN users u ON u.id = h.sender_id
      UNION ALL
      SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false
       WHERE NOT ${searchable}
      ORDER BY ${ranked}`,
    { precondition: isMember },
  );
  if (rows === null) throw new DomainError("NOT_FOUND", "That conversation does not exist.");
  if (rows.length === 1 && !rows[0]!.has_terms) {
    return { items: [], conversations: [], nextCursor: null, noSearchableWords: true, rankedNewest: null };
  }
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const conversations = new Map<string, HitConversation>();
  const items: MessageHit[] = page.map((row) => {
    if (row.members) {
      conversations.set(row.conversation_id, {
        id: row.conversation_id,
        type: row.conversation_type,
        name: row.conversation_name,
        participants: row.members,
      });
    }
    return {
      messageId: row.id,
      conversationId: row.conversation_id,
      seq: row.seq,
      senderId: row.sender_id,
      senderName: row.sender_name,
      senderImage: row.sender_image,
      createdAt: row.created_at,
      editedAt: row.edited_at,
      snippet: parseHeadline(row.headline, withoutMarkers(row.content)),
      rank: row.rank,
    };
  });
  return {
    items,
    // The window numbers hits in the page's own order, so each conversation's first
    // row on the page is its first row overall and carries its members.
    conversations: [...new Set(items.map((item) => item.conversationId))].map((id) => conversations.get(id)!),
    nextCursor: more && offset + limit < MAX_SEARCH_RESULTS ? encodeCursor(offset + limit) : null,
    noSearchableWords: false,
    // Every ranked candidate was taken: older matches exist that were not ranked.
    rankedNewest: relevance && (rows[0]?.candidates ?? 0) > MAX_RANKED_CANDIDATES ? MAX_RANKED_CANDIDATES : null,
  };
}
