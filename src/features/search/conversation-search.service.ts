import { conversationsInOrder } from "~/features/conversations/conversations.service";
import type { Conversation } from "~/features/conversations/contracts";
import type { ServiceDeps } from "~/server/service-deps";
import { inSearchTransaction } from "./search-transaction";

// Finding a conversation by its group name or by the names of the people in it,
// as one types: partial words ("eng" finds "Engineering"), and typos ("Alcie"
// finds Alice) through pg_trgm's word similarity. Both names are trigram-indexed
// (GIN, gin_trgm_ops), so matching names are found in the index before they are
// joined with the caller's conversations.

/** How alike a typed word and a word of a name must be (pg_trgm's default 0.6 misses most one-letter typos). */
const WORD_SIMILARITY_THRESHOLD = 0.3;
const MAX_RESULTS = 50;

/** LIKE's own characters in user text match themselves. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The caller's conversations matching `query`, best first: a name starting with
 * it, then a word of a name starting with it, then containing it, then alike by
 * trigrams; ties by latest activity. A direct conversation matches by the other
 * person's name (its title); the caller's own name matches nothing.
 */
export async function searchConversations(deps: ServiceDeps, userId: string, query: string): Promise<Conversation[]> {
  const text = query.trim();
  const contains = `%${escapeLike(text)}%`;
  const starts = `${escapeLike(text)}%`;
  const wordStarts = `% ${escapeLike(text)}%`;
  const matches = await inSearchTransaction(
    deps.prisma,
    deps.prisma.$queryRaw<{ id: string }[]>`
      WITH mine AS (
        SELECT p.conversation_id FROM conversation_participants p WHERE p.user_id = ${userId}::uuid AND p.left_at IS NULL
      ),
      by_group_name AS (
        SELECT c.id, GREATEST(
                 CASE WHEN c.name ILIKE ${starts} THEN 1 WHEN c.name ILIKE ${wordStarts} THEN 0.9
                      WHEN c.name ILIKE ${contains} THEN 0.7 ELSE 0 END,
                 word_similarity(${text}, c.name)) AS score
          FROM conversations c
         WHERE (${text} <% c.name OR c.name ILIKE ${contains}) AND c.id IN (SELECT conversation_id FROM mine)
      ),
      by_member_name AS (
        SELECT p.conversation_id AS id, GREATEST(
                 CASE WHEN u.name ILIKE ${starts} THEN 1 WHEN u.name ILIKE ${wordStarts} THEN 0.9
                      WHEN u.name ILIKE ${contains} THEN 0.7 ELSE 0 END,
                 word_similarity(${text}, u.name)) AS score
          FROM users u
          JOIN conversation_participants p ON p.user_id = u.id AND p.left_at IS NULL
         WHERE (${text} <% u.name OR u.name ILIKE ${contains}) AND u.id <> ${userId}::uuid
           AND p.conversation_id IN (SELECT conversation_id FROM mine)
      )
      SELECT s.id
        FROM (SELECT id, max(score) AS score FROM (SELECT * FROM by_group_name UNION ALL SELECT * FROM by_member_name) found GROUP BY id) s
        JOIN conversations c ON c.id = s.id
       ORDER BY s.score DESC, COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC
       LIMIT ${MAX_RESULTS}`,
    { trigram: { "pg_trgm.word_similarity_threshold": WORD_SIMILARITY_THRESHOLD } },
  );
  return conversationsInOrder(deps, userId, (matches ?? []).map((match) => match.id));
}
