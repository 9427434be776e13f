"use client";

import { useId, useState } from "react";
import { Button } from "~/components/ui/button";
import { conversationTitle } from "~/features/conversations/components/conversation-title";
import { serverMessage } from "~/features/conversations/components/people";
import { api } from "~/trpc/react";
import type { MessageHit, SearchMessagesInput } from "../contracts";
import { conversationQuery, groupHits, type HitGroup } from "../search-query";
import { ConversationHitRow, MessageHitRow } from "./search-hits";

/** A few conversations whose name or members match: the message results are what the search is for. */
const CONVERSATION_HITS = 3;

export interface ResultActions {
  /** In place (the panel); without them, results are plain links. */
  onOpenMessage?: (hit: MessageHit) => void;
  onOpenConversation?: (conversationId: string) => void;
  /** The message or conversation on screen, marked as current among the results. */
  activeMessageId?: string;
  activeConversationId?: string;
}

function MatchingConversations({ viewerId, query, actions }: { viewerId: string; query: string; actions: ResultActions }) {
  const headingId = useId();
  const words = conversationQuery(query);
  const found = api.conversations.search.useQuery({ query: words }, { enabled: words !== "" });
  // The list shows a page of conversations at a time; here every match stays reachable.
  const [all, setAll] = useState(false);
  const matches = words === "" ? [] : (found.data ?? []);
  const shown = all ? matches : matches.slice(0, CONVERSATION_HITS);
  if (shown.length === 0) return null;
  return (
    <section aria-labelledby={headingId} className="pb-2">
      <h3 id={headingId} className="text-muted-foreground px-3 py-1 text-xs font-semibold tracking-wide uppercase">
        Conversations
      </h3>
      <ul className="grid grid-cols-[minmax(0,1fr)]">
        {shown.map((conversation) => (
          <ConversationHitRow
            key={conversation.id}
            conversation={conversation}
            viewerId={viewerId}
            active={conversation.id === actions.activeConversationId && !actions.activeMessageId}
            onSelect={actions.onOpenConversation}
          />
        ))}
      </ul>
      {matches.length > CONVERSATION_HITS && (
        <Button variant="link" size="sm" className="h-auto px-3 py-1 text-xs" onClick={() => setAll(!all)}>
          {all ? "Show fewer conversations" : `Show all ${matches.length} conversations`}
        </Button>
      )}
    </section>
  );
}

function HitGroupSection({ group, viewerId, actions }: { group: HitGroup; viewerId: string; actions: ResultActions }) {
  const headingId = useId();
  const title = group.conversation ? conversationTitle(group.conversation, viewerId) : "Conversation";
  return (
    <section aria-labelledby={headingId}>
      <h4 id={headingId} className="bg-muted/60 truncate px-3 py-1 text-xs font-semibold">
        {title}
      </h4>
      <ul className="grid grid-cols-[minmax(0,1fr)]" aria-label={`Results in ${title}`}>
        {group.hits.map((hit) => (
          <MessageHitRow key={hit.messageId} hit={hit} active={hit.messageId === actions.activeMessageId} onSelect={actions.onOpenMessage} />
        ))}
      </ul>
    </section>
  );
}

/** Best-first results of a common word come from its newest matches only: say so, and offer what goes through all. */
function RankedNewestNote({ count, onSortByNewest }: { count: number; onSortByNewest: () => void }) {
  return (
    <p className="text-muted-foreground px-3 pb-2 text-xs">
      Best matches among the newest {count}. Add words to narrow the search, or{" "}
      <Button type="button" variant="link" size="sm" className="h-auto p-0 text-xs" onClick={onSortByNewest}>
        sort by newest
      </Button>{" "}
      to go through every match.
    </p>
  );
}

function MatchingMessages({
  viewerId,
  input,
  filtered,
  actions,
  onSortByNewest,
}: {
  viewerId: string;
  input: Omit<SearchMessagesInput, "cursor">;
  filtered: boolean;
  actions: ResultActions;
  onSortByNewest: () => void;
}) {
  const headingId = useId();
  const results = api.messages.search.useInfiniteQuery(input, { getNextPageParam: (page) => page.nextCursor ?? undefined });
  const pages = results.data?.pages ?? [];
  const groups = groupHits(pages);
  const count = groups.reduce((sum, group) => sum + group.hits.length, 0);

  let status: string;
  if (results.isError) status = "";
  else if (results.isPending) status = "Searching…";
  else if (pages[0]?.noSearchableWords) status = `Search for less common words: “${input.query}” has only words too common to look for.`;
  else if (count === 0) status = `No messages match “${input.query}”${filtered ? " with these filters" : ""}.`;
  else status = `${count}${results.hasNextPage ? "+" : ""} ${count === 1 ? "message" : "messages"} found`;
  const visibleStatus = status !== "" && (count === 0 || status === "Searching…");

  return (
    <section aria-labelledby={headingId} aria-busy={results.isFetching}>
      <h3 id={headingId} className="text-muted-foreground px-3 py-1 text-xs font-semibold tracking-wide uppercase">
        Messages
      </h3>
      <p role="status" className={visibleStatus ? "text-muted-foreground px-3 py-2 text-sm" : "sr-only"}>
        {status}
      </p>
      {results.isError && (
        <p role="alert" className="text-destructive px-3 py-2 text-sm">
          Search failed: {serverMessage(results.error)}
        </p>
      )}
      {pages[0]?.rankedNewest != null && input.sort !== "newest" && (
        <RankedNewestNote count={pages[0].rankedNewest} onSortByNewest={onSortByNewest} />
      )}
      {groups.map((group) => (
        <HitGroupSection key={group.conversationId} group={group} viewerId={viewerId} actions={actions} />
      ))}
      {results.hasNextPage && (
        <div className="p-3">
          <Button variant="outline" size="sm" className="w-full" disabled={results.isFetchingNextPage} onClick={() => void results.fetchNextPage()}>
            {results.isFetchingNextPage ? "Loading…" : "Load more"}
          </Button>
        </div>
      )}
    </section>
  );
}

/** What a search finds: a few matching conversations, then the messages grouped by conversation. */
export function SearchResults({
  viewerId,
  input,
  showConversations,
  filtered,
  actions,
  onSortByNewest,
}: {
  viewerId: string;
  input: Omit<SearchMessagesInput, "cursor">;
  /** Off when the search is limited to one conversation. */
  showConversations: boolean;
  filtered: boolean;
  actions: ResultActions;
  onSortByNewest: () => void;
}) {
  return (
    <div className="grid grid-cols-[minmax(0,1fr)] pb-2">
      {showConversations && <MatchingConversations key={input.query} viewerId={viewerId} query={input.query} actions={actions} />}
      <MatchingMessages viewerId={viewerId} input={input} filtered={filtered} actions={actions} onSortByNewest={onSortByNewest} />
    </div>
  );
}
