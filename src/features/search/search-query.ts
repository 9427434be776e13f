import type { HitConversation, MessageHit, MessageSearchSort, SearchMessagesInput } from "./contracts";

// What the search field and its filters hold, turned into the procedures' inputs,
// and the results grouped for display. Pure, so the panel and the page agree.

export interface MessageSearchState {
  query: string;
  /** Only in the conversation the search was opened from (offered only then). */
  inConversation: boolean;
  /** "" for anyone. */
  fromUserId: string;
  /** Days as <input type="date"> gives them (yyyy-mm-dd), "" for open; both days are included. */
  sinceDay: string;
  untilDay: string;
  sort: MessageSearchSort;
}

export const EMPTY_SEARCH: MessageSearchState = {
  query: "",
  inConversation: false,
  fromUserId: "",
  sinceDay: "",
  untilDay: "",
  sort: "relevance",
};

/** Local midnight at the start of `day` plus `addDays`; undefined for anything but yyyy-mm-dd. */
function localDayStart(day: string, addDays = 0): Date | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + addDays);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** messages.search's input (without the page cursor) for a settled query and the filters. */
export function messageSearchInput(
  state: MessageSearchState,
  query: string,
  scopeConversationId: string | undefined,
): Omit<SearchMessagesInput, "cursor"> {
  const after = localDayStart(state.sinceDay);
  // "Until" a day includes that day: the search ends at the next midnight.
  const before = localDayStart(state.untilDay, 1);
  return {
    query,
    sort: state.sort,
    ...(state.inConversation && scopeConversationId ? { conversationId: scopeConversationId } : {}),
    ...(state.fromUserId ? { fromUserId: state.fromUserId } : {}),
    ...(after ? { after } : {}),
    ...(before ? { before } : {}),
  };
}

/** How many filters narrow the search (sorting is not one). */
export function activeFilterCount(state: MessageSearchState, scoped: boolean): number {
  return [state.inConversation && scoped, state.fromUserId, state.sinceDay, state.untilDay].filter(Boolean).length;
}

/**
 * The words of a message query, to find conversations by name as well: quotes, OR
 * and -excluded words mean nothing to a name.
 */
export function conversationQuery(query: string): string {
  return query
    .replace(/"/g, " ")
    .split(/\s+/)
    .filter((word) => word !== "" && word !== "OR" && !word.startsWith("-"))
    .join(" ")
    .slice(0, 100)
    .trim();
}

export interface HitGroup {
  conversationId: string;
  /** Undefined only if the server left it out; the group is then titled generically. */
  conversation: HitConversation | undefined;
  hits: MessageHit[];
}

/**
 * Hits grouped by conversation, groups in the order of their first hit (best match
 * or newest first, as the server sorted), across every page loaded. A hit already
 * shown is not shown again: offset paging repeats one when new messages arrive
 * between two pages.
 */
export function groupHits(pages: { items: MessageHit[]; conversations: HitConversation[] }[]): HitGroup[] {
  const conversations = new Map(pages.flatMap((page) => page.conversations).map((conversation) => [conversation.id, conversation]));
  const groups = new Map<string, HitGroup>();
  const seen = new Set<string>();
  for (const hit of pages.flatMap((page) => page.items)) {
    if (seen.has(hit.messageId)) continue;
    seen.add(hit.messageId);
    let group = groups.get(hit.conversationId);
    if (!group) {
      group = { conversationId: hit.conversationId, conversation: conversations.get(hit.conversationId), hits: [] };
      groups.set(hit.conversationId, group);
    }
    group.hits.push(hit);
  }
  return [...groups.values()];
}
