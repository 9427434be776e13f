import { z } from "zod";
import { conversationTypeSchema, participantSchema } from "~/features/conversations/contracts";

// Search as clients see it; shared by `messages.search`, `conversations.search` and
// the search UI. Snippets come as segments, never as markup: a matched word is a
// segment with `match: true`, and the client draws every segment as text.

/** Long enough for a few words with quotes, OR and -exclusions; search terms, not documents. */
export const MAX_SEARCH_QUERY_LENGTH = 200;
export const SEARCH_PAGE_SIZE = 20;
/** How deep paging goes (Slack and Mattermost stop too): past this, refine the query. */
export const MAX_SEARCH_RESULTS = 500;
/**
 * Best-first results rank the newest this many matches: ranking reads every
 * candidate's words, and a common word matches a large part of a long history.
 * Newest-first results page through every match.
 */
export const MAX_RANKED_CANDIDATES = 200;

/** What a person typed to search for: trimmed, not empty, at most `max` characters, no NUL (PostgreSQL text cannot hold it). */
const searchText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, "Type something to search for.")
    .max(max, `Search for at most ${max} characters.`)
    .refine((text) => !text.includes("\u0000"), "Search text cannot contain the NUL character.");

export const messageSearchSortSchema = z.enum(["relevance", "newest"]);
export type MessageSearchSort = z.infer<typeof messageSearchSortSchema>;

export const searchMessagesInput = z
  .object({
    /** Web-search syntax: words (all must match), "a phrase", either OR other, -excluded. */
    query: searchText(MAX_SEARCH_QUERY_LENGTH),
    /** Only in this conversation. */
    conversationId: z.uuid().optional(),
    /** Only messages sent by this person. */
    fromUserId: z.uuid().optional(),
    /** Only messages sent at or after this moment. */
    after: z.date().optional(),
    /** Only messages sent before this moment. */
    before: z.date().optional(),
    sort: messageSearchSortSchema.default("relevance"),
    /** Opaque: the nextCursor of the previous page. */
    cursor: z.string().max(100).nullish(),
    limit: z.number().int().min(1).max(50).default(SEARCH_PAGE_SIZE),
  })
  .refine((input) => !input.after || !input.before || input.after < input.before, {
    message: "The start date must be before the end date.",
    path: ["after"],
  });
export type SearchMessagesInput = z.input<typeof searchMessagesInput>;

export const snippetSegmentSchema = z.object({ text: z.string(), match: z.boolean() });
export type SnippetSegment = z.infer<typeof snippetSegmentSchema>;

export const messageHitSchema = z.object({
  messageId: z.uuid(),
  conversationId: z.uuid(),
  /** Where the message sits in its conversation: the view opens there. */
  seq: z.number().int(),
  senderId: z.uuid().nullable(),
  senderName: z.string().nullable(),
  senderImage: z.string().nullable(),
  createdAt: z.date(),
  editedAt: z.date().nullable(),
  /** The best passage of the message with the matched words marked. */
  snippet: z.array(snippetSegmentSchema),
  rank: z.number(),
});
export type MessageHit = z.infer<typeof messageHitSchema>;

/** Enough of a conversation to title a group of results (the viewer may not have it loaded). */
export const hitConversationSchema = z.object({
  id: z.uuid(),
  type: conversationTypeSchema,
  name: z.string().nullable(),
  participants: z.array(participantSchema),
});
export type HitConversation = z.infer<typeof hitConversationSchema>;

export const searchMessagesOutput = z.object({
  /** Best first (or newest first); the UI groups them by conversation in this order. */
  items: z.array(messageHitSchema),
  /** Every conversation of `items`, once. */
  conversations: z.array(hitConversationSchema),
  nextCursor: z.string().nullable(),
  /**
   * The query had no searchable words (only very common ones such as "the", or
   * only punctuation): nothing can match, and the UI says why.
   */
  noSearchableWords: z.boolean(),
  /**
   * Set when the query matched more messages than are ranked: the results are the
   * best of the newest this many matches (the UI suggests narrowing the search or
   * sorting by date, which goes through all of them). Null otherwise.
   */
  rankedNewest: z.number().int().nullable(),
});
export type SearchMessagesOutput = z.infer<typeof searchMessagesOutput>;

export const searchConversationsInput = z.object({ query: searchText(100) });
