import type { SessionUser } from "~/features/auth/contracts";
import { requireMembership } from "~/features/conversations/membership";
import { requireMessagingEnabled } from "~/features/settings/settings.service";
import { Prisma } from "~/generated/prisma/client";
import { DomainError } from "~/server/errors";
import type { ServiceDeps } from "~/server/service-deps";
import {
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
 * newest first) or newest first. Paging is by offset, up to MAX_SEARCH_RESULTS.
 */
export async function searchMessages(deps: ServiceDeps, user: SessionUser, input: MessageSearch): Promise<SearchMessagesOutput> {
  await requireMessagingEnabled(deps.prisma);
  // A conversation the caller is not in is NOT_FOUND, as everywhere else.
  if (input.conversationId) await requireMembership(deps.prisma, input.conversationId, user.id);
  const offset = input.cursor ? decodeCursor(input.cursor) : 0;
  const limit = Math.min(input.limit, MAX_SEARCH_RESULTS - offset);
  if (limit <= 0) return { items: [], conversations: [], nextCursor: null, noSearchableWords: false };

  const scope = input.conversationId
    ? Prisma.sql`ARRAY[${input.conversationId}::uuid]`
    : Prisma.sql`ARRAY(SELECT p.conversation_id FROM conversation_participants p WHERE p.user_id = ${user.id}::uuid AND p.left_at IS NULL)`;
  const filters = [
    input.fromUserId ? Prisma.sql`AND m.sender_id = ${input.fromUserId}::uuid` : Prisma.empty,
    input.after ? Prisma.sql`AND m.created_at >= ${input.after}` : Prisma.empty,
    input.before ? Prisma.sql`AND m.created_at < ${input.before}` : Prisma.empty,
  ];
  const order = input.sort === "newest" ? Prisma.sql`m.created_at DESC, m.id DESC` : Prisma.sql`rank DESC, m.created_at DESC, m.id DESC`;
  const outerOrder = input.sort === "newest" ? Prisma.sql`h.created_at DESC, h.id DESC` : Prisma.sql`h.rank DESC, h.created_at DESC, h.id DESC`;

  // One statement: the query parsed once, the page of hits (ranked inside the
  // index's matches), then only for that page the passages, senders and the
  // titles of their conversations. A query with no searchable word still answers
  // one row (has_terms false), so the UI can say why nothing matched.
  const rows = await inSearchTransaction(
    deps.prisma,
    deps.prisma.$queryRaw<HitRow[]>`
      WITH q AS (SELECT websearch_to_tsquery(${CONFIG}::regconfig, ${input.query}) AS query),
      hits AS (
        SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.created_at, m.edited_at, m.content,
               ts_rank_cd(m.search_vector, q.query, 1) AS rank
          FROM q, messages m
         WHERE numnode(q.query) > 0
           AND m.conversation_id = ANY(${scope})
           AND m.search_vector @@ q.query
           ${filters[0]} ${filters[1]} ${filters[2]}
         ORDER BY ${order}
         LIMIT ${limit + 1} OFFSET ${offset}
      ),
      page AS (
        SELECT h.*, row_number() OVER (PARTITION BY h.conversation_id ORDER BY ${outerOrder}) AS nth FROM hits h
      )
      SELECT h.id, h.conversation_id, h.seq, h.sender_id, h.created_at, h.edited_at, h.content, h.rank::float8 AS rank,
             ts_headline(${CONFIG}::regconfig, translate(h.content, ${MATCH_START + MATCH_END}, ''), q.query, ${HEADLINE_OPTIONS}) AS headline,
             u.name AS sender_name, u.image AS sender_image,
             c.type::text AS conversation_type, c.name AS conversation_name,
             CASE WHEN h.nth = 1 THEN (
               SELECT json_agg(json_build_object('id', mu.id, 'name', mu.name, 'image', mu.image) ORDER BY mp.joined_at)
                 FROM conversation_participants mp JOIN users mu ON mu.id = mp.user_id
                WHERE mp.conversation_id = h.conversation_id AND mp.left_at IS NULL
             ) END AS members,
             true AS has_terms
        FROM page h
        CROSS JOIN q
        JOIN conversations c ON c.id = h.conversation_id
        LEFT JOIN users u ON u.id = h.sender_id
      UNION ALL
      SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false
        FROM q WHERE numnode(q.query) = 0
      ORDER BY ${input.sort === "newest" ? Prisma.sql`created_at DESC, id DESC` : Prisma.sql`rank DESC, created_at DESC, id DESC`}`,
  );
  if (rows.length === 1 && !rows[0]!.has_terms) {
    return { items: [], conversations: [], nextCursor: null, noSearchableWords: true };
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
  };
}
