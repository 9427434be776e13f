import { describe, expect, it } from "vitest";
import type { HitConversation, MessageHit } from "./contracts";
import { activeFilterCount, conversationQuery, EMPTY_SEARCH, groupHits, messageSearchInput } from "./search-query";

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

function hit(messageId: number, conversationId: number): MessageHit {
  return {
    messageId: id(messageId),
    conversationId: id(conversationId),
    seq: messageId,
    senderId: id(900),
    senderName: "Ana",
    senderImage: null,
    createdAt: new Date(2026, 0, 1),
    editedAt: null,
    snippet: [{ text: "word", match: true }],
    rank: 1,
  };
}

const conversation = (n: number): HitConversation => ({ id: id(n), type: "GROUP", name: `Group ${n}`, participants: [] });

describe("messageSearchInput", () => {
  it("sends only the query and the sort when no filter is set", () => {
    expect(messageSearchInput(EMPTY_SEARCH, "lunch", id(1))).toEqual({ query: "lunch", sort: "relevance" });
  });

  it("limits to the conversation only when asked and one is in scope", () => {
    const state = { ...EMPTY_SEARCH, inConversation: true };
    expect(messageSearchInput(state, "lunch", id(1)).conversationId).toBe(id(1));
    expect(messageSearchInput(state, "lunch", undefined).conversationId).toBeUndefined();
  });

  it("turns the days into local midnights, the last day included", () => {
    const input = messageSearchInput({ ...EMPTY_SEARCH, sinceDay: "2026-03-05", untilDay: "2026-03-31", fromUserId: id(7), sort: "newest" }, "x", undefined);
    expect(input.after).toEqual(new Date(2026, 2, 5));
    expect(input.before).toEqual(new Date(2026, 3, 1));
    expect(input.fromUserId).toBe(id(7));
    expect(input.sort).toBe("newest");
  });

  it("ignores a day the date field could not make sense of", () => {
    expect(messageSearchInput({ ...EMPTY_SEARCH, sinceDay: "05/03/2026" }, "x", undefined).after).toBeUndefined();
  });

  it("counts the filters that narrow the search", () => {
    expect(activeFilterCount({ ...EMPTY_SEARCH, sort: "newest" }, true)).toBe(0);
    expect(activeFilterCount({ ...EMPTY_SEARCH, inConversation: true, sinceDay: "2026-01-01" }, true)).toBe(2);
    expect(activeFilterCount({ ...EMPTY_SEARCH, inConversation: true }, false)).toBe(0);
  });
});

describe("conversationQuery", () => {
  it("keeps the words a conversation name could hold", () => {
    expect(conversationQuery('"ski trip" OR hiking -work')).toBe("ski trip hiking");
    expect(conversationQuery("-only -excluded")).toBe("");
  });
});

describe("groupHits", () => {
  it("groups by conversation in the order of each group's first hit, across pages", () => {
    const groups = groupHits([
      { items: [hit(1, 10), hit(2, 20), hit(3, 10)], conversations: [conversation(10), conversation(20)] },
      { items: [hit(4, 30), hit(5, 20)], conversations: [conversation(30), conversation(20)] },
    ]);
    expect(groups.map((group) => group.conversation?.name)).toEqual(["Group 10", "Group 20", "Group 30"]);
    expect(groups.map((group) => group.hits.map((h) => h.seq))).toEqual([[1, 3], [2, 5], [4]]);
  });

  it("shows a hit a later page repeats only once", () => {
    const groups = groupHits([
      { items: [hit(1, 10)], conversations: [conversation(10)] },
      { items: [hit(1, 10), hit(2, 10)], conversations: [conversation(10)] },
    ]);
    expect(groups[0]!.hits.map((h) => h.seq)).toEqual([1, 2]);
  });
});
