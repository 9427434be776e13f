import { QueryClient } from "@tanstack/react-query";
import { getQueryKey } from "@trpc/react-query";
import { describe, expect, it } from "vitest";
import { api } from "~/trpc/react";
import type { MessageHit, SearchMessagesOutput } from "./contracts";
import { dropConversationFromSearch, dropDeletedFromSearch } from "./search-cache";

const hit = (messageId: string, conversationId: string): MessageHit => ({
  messageId,
  conversationId,
  seq: 1,
  senderId: null,
  senderName: null,
  senderImage: null,
  createdAt: new Date(0),
  editedAt: null,
  snippet: [{ text: "secret", match: true }],
  rank: 1,
});

function withResults() {
  const queryClient = new QueryClient();
  const key = [...getQueryKey(api.messages.search, { query: "secret" }, "infinite")];
  const page: SearchMessagesOutput = {
    items: [hit("m1", "c1"), hit("m2", "c1"), hit("m3", "c2")],
    conversations: [],
    nextCursor: null,
    noSearchableWords: false,
    rankedNewest: null,
  };
  queryClient.setQueryData(key, { pages: [page], pageParams: [null] });
  const ids = () =>
    (queryClient.getQueryData(key) as { pages: SearchMessagesOutput[] }).pages.flatMap((p) => p.items.map((item) => item.messageId));
  return { queryClient, ids };
}

describe("search results and gone text", () => {
  it("drop a deleted message at once", () => {
    const { queryClient, ids } = withResults();
    dropDeletedFromSearch(queryClient, "m2");
    expect(ids()).toEqual(["m1", "m3"]);
  });

  it("drop every hit of a conversation the viewer was removed from", () => {
    const { queryClient, ids } = withResults();
    dropConversationFromSearch(queryClient, "c1");
    expect(ids()).toEqual(["m3"]);
  });
});
