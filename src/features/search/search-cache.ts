import type { InfiniteData, QueryClient } from "@tanstack/react-query";
import { getQueryKey } from "@trpc/react-query";
import { api } from "~/trpc/react";
import type { MessageHit, SearchMessagesOutput } from "./contracts";

// Search results are not kept live (a search is a snapshot), with one exception:
// text that is gone must not stay readable in them. A deleted message, and every
// hit of a conversation the viewer was removed from, leave the results at once;
// an edited message's results are fetched again.

type SearchPages = InfiniteData<SearchMessagesOutput>;

function dropHits(queryClient: QueryClient, gone: (hit: MessageHit) => boolean): void {
  queryClient.setQueriesData<SearchPages>({ queryKey: getQueryKey(api.messages.search) }, (data) =>
    data?.pages
      ? { ...data, pages: data.pages.map((page) => ({ ...page, items: page.items.filter((hit) => !gone(hit)) })) }
      : data,
  );
}

export function dropDeletedFromSearch(queryClient: QueryClient, messageId: string): void {
  dropHits(queryClient, (hit) => hit.messageId === messageId);
}

export function dropConversationFromSearch(queryClient: QueryClient, conversationId: string): void {
  dropHits(queryClient, (hit) => hit.conversationId === conversationId);
  void queryClient.invalidateQueries({ queryKey: getQueryKey(api.conversations.search) });
}

export function refreshSearchAfterEdit(queryClient: QueryClient): void {
  void queryClient.invalidateQueries({ queryKey: getQueryKey(api.messages.search) });
}
