import { describe, expect, it } from "vitest";
import type { Message } from "./contracts";
import { buildRows, firstUnreadSeq, GROUP_WINDOW_MS, mergeLatest, prependOlder, upsertMessage, type Timeline } from "./timeline";

const ANA = "00000000-0000-4000-8000-00000000000a";
const BEN = "00000000-0000-4000-8000-00000000000b";
const base = new Date(2026, 10, 20, 10, 0).getTime();

function message(seq: number, overrides: Partial<Message> = {}): Message {
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
    conversationId: "00000000-0000-4000-8000-0000000000cc",
    seq,
    senderId: ANA,
    senderName: "Ana",
    senderImage: null,
    type: "TEXT",
    content: `message ${seq}`,
    metadata: null,
    clientMessageId: null,
    createdAt: new Date(base + seq * 1000),
    editedAt: null,
    deletedAt: null,
    reactions: [],
    ...overrides,
  };
}

const page = (seqs: number[], hasMoreBefore = false): Timeline => ({ items: seqs.map((seq) => message(seq)), hasMoreBefore, hasMoreAfter: false });
const seqsOf = (timeline: { items: Message[] }) => timeline.items.map((item) => item.seq);

describe("upsertMessage", () => {
  it("puts a message where its seq belongs, whichever arrives first", () => {
    expect(upsertMessage([message(1), message(3)], message(2)).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(upsertMessage([message(1)], message(2)).map((m) => m.seq)).toEqual([1, 2]);
  });
  it("replaces a message it already holds instead of doubling it", () => {
    const edited = message(2, { content: "edited" });
    const items = upsertMessage([message(1), message(2)], edited);
    expect(items).toHaveLength(2);
    expect(items[1]!.content).toBe("edited");
  });
});

describe("paging", () => {
  it("puts an older page in front and keeps what was held", () => {
    const held = { ...page([3, 4], true), items: [message(3, { content: "newer edit" }), message(4)] };
    const merged = prependOlder(held, page([1, 2, 3], false));
    expect(seqsOf(merged)).toEqual([1, 2, 3, 4]);
    expect(merged.items[2]!.content).toBe("newer edit");
    expect(merged.hasMoreBefore).toBe(false);
  });

  it("keeps loaded older pages when the refetched newest page overlaps them", () => {
    const merged = mergeLatest(page([1, 2, 3, 4], false), page([3, 4, 5, 6], true));
    expect(seqsOf(merged)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(merged.hasMoreBefore).toBe(false);
  });

  it("keeps loaded pages when the newest page starts right after them", () => {
    expect(seqsOf(mergeLatest(page([1, 2], true), page([3, 4], true)))).toEqual([1, 2, 3, 4]);
  });

  it("keeps messages that arrived by event while the newest page was on its way", () => {
    expect(seqsOf(mergeLatest(page([1, 2, 3, 4]), page([2, 3])))).toEqual([1, 2, 3, 4]);
  });

  it("keeps what arrived by event while a refetch was on its way, even into an empty page", () => {
    expect(seqsOf(mergeLatest(page([1]), page([])))).toEqual([1]);
    expect(seqsOf(mergeLatest(page([1, 3]), page([1, 2])))).toEqual([1, 2, 3]);
  });

  it("replaces everything when there is a gap between held and newest", () => {
    const merged = mergeLatest(page([1, 2], false), page([10, 11], true));
    expect(seqsOf(merged)).toEqual([10, 11]);
    expect(merged.hasMoreBefore).toBe(true);
  });

  it("lets the server's copy win for messages in both (edits and deletions made while away)", () => {
    const latest = { ...page([2, 3]), items: [message(2, { content: null, deletedAt: new Date() }), message(3)] };
    const merged = mergeLatest(page([1, 2]), latest);
    expect(merged.items[1]!.content).toBeNull();
  });
});

describe("buildRows", () => {
  it("starts each day with a separator and groups one sender's run", () => {
    const nextDay = new Date(base + 24 * 3600_000);
    const rows = buildRows([message(1), message(2), message(3, { senderId: BEN }), message(4, { createdAt: nextDay })], null);
    expect(rows.map((row) => (row.kind === "message" ? `${row.message.seq}${row.startsGroup ? "*" : ""}` : row.kind))).toEqual([
      "day",
      "1*",
      "2",
      "3*",
      "day",
      "4*",
    ]);
  });

  it("breaks a group after a long pause and around system messages", () => {
    const rows = buildRows(
      [message(1), message(2, { createdAt: new Date(base + 2000 + GROUP_WINDOW_MS + 1) }), message(3, { type: "SYSTEM", senderId: null })],
      null,
    ).filter((row) => row.kind === "message");
    expect(rows.map((row) => row.kind === "message" && row.startsGroup)).toEqual([true, true, true]);
  });

  it("puts the new-messages divider before the first unread message", () => {
    const rows = buildRows([message(1), message(2), message(3)], 2);
    expect(rows.map((row) => (row.kind === "message" ? row.message.seq : row.kind))).toEqual(["day", 1, "unread", 2, 3]);
  });
});

describe("firstUnreadSeq", () => {
  it("is the first message by someone else after the read position", () => {
    const items = [message(1, { senderId: BEN }), message(2), message(3, { senderId: BEN })];
    expect(firstUnreadSeq(items, 1, ANA)).toBe(3);
    expect(firstUnreadSeq(items, 0, ANA)).toBe(1);
    expect(firstUnreadSeq(items, 3, ANA)).toBeNull();
  });
  it("does not count one's own messages or system messages", () => {
    expect(firstUnreadSeq([message(1), message(2, { type: "SYSTEM", senderId: null })], 0, ANA)).toBeNull();
  });
});
