import { describe, expect, it } from "vitest";
import type { Message } from "./contracts";
import {
  appendNewer,
  buildRows,
  firstUnreadSeq,
  GROUP_WINDOW_MS,
  mergeAround,
  mergeLatest,
  prependOlder,
  showLatest,
  spansSeq,
  upsertLive,
  upsertMessage,
  type Timeline,
} from "./timeline";

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

const page = (seqs: number[], hasMoreBefore = false, hasMoreAfter = false): Timeline => ({
  items: seqs.map((seq) => message(seq)),
  hasMoreBefore,
  hasMoreAfter,
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);
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

describe("a window around a message (opening a search result)", () => {
  // The conversation has messages 1..200; the newest page is 151..200.
  const newestPage = () => page(range(151, 200), true);
  const window = () => page(range(75, 124), true, true);

  it("replaces a held page it does not meet, and stops short of the newest", () => {
    const opened = mergeAround(newestPage(), window());
    expect(seqsOf(opened)).toEqual(range(75, 124));
    expect(opened).toMatchObject({ hasMoreBefore: true, hasMoreAfter: true });
    expect(seqsOf(mergeAround(undefined, window()))).toEqual(range(75, 124));
  });

  it("joins a held page it overlaps or touches, each end's flag from the side that reaches further", () => {
    const touching = mergeAround(newestPage(), page(range(126, 150), true, true));
    expect(seqsOf(touching)).toEqual(range(126, 200));
    expect(touching).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false });
    const overlapping = mergeAround(page(range(151, 200), true), page(range(140, 160), false, true));
    expect(seqsOf(overlapping)).toEqual(range(140, 200));
    expect(overlapping).toMatchObject({ hasMoreBefore: false, hasMoreAfter: false });
  });

  it("keeps the held copy of a message in both (events keep it current)", () => {
    const held = { ...newestPage(), items: newestPage().items.map((item) => (item.seq === 151 ? message(151, { content: "edited" }) : item)) };
    const opened = mergeAround(held, page(range(140, 160), true, true));
    expect(opened.items.find((item) => item.seq === 151)!.content).toBe("edited");
  });

  it("appends a forward page, and is live once a page reaches the newest message", () => {
    const once = appendNewer(window(), page(range(125, 174), false, true), 124);
    expect(seqsOf(once)).toEqual(range(75, 174));
    expect(once.hasMoreAfter).toBe(true);
    expect(once.hasMoreBefore).toBe(true);
    const end = appendNewer(once, page(range(175, 200), false, false), 174);
    expect(seqsOf(end)).toEqual(range(75, 200));
    expect(end.hasMoreAfter).toBe(false);
  });

  it("drops a forward page that no longer joins: the window moved, or it is live already", () => {
    const moved = page(range(10, 59), false, true);
    expect(appendNewer(moved, page(range(125, 174), false, true), 124)).toBe(moved);
    const live = newestPage();
    expect(appendNewer(live, page(range(201, 210)), 200)).toBe(live);
    const older = page(range(1, 74), false);
    const jumped = page(range(151, 200), true);
    expect(prependOlder(jumped, older, 75)).toBe(jumped);
    expect(seqsOf(prependOlder(window(), older, 75))).toEqual(range(1, 124));
  });

  it("takes no live message beyond its end, but does replace what it shows", () => {
    const held = window();
    expect(upsertLive(held, message(201))).toBe(held);
    expect(seqsOf(upsertLive(held, message(201)))).not.toContain(201);
    const edited = upsertLive(held, message(100, { content: "edited" }));
    expect(edited.items.find((item) => item.seq === 100)!.content).toBe("edited");
    expect(edited.hasMoreAfter).toBe(true);
  });

  it("takes a live message at the end once it reaches the newest", () => {
    const live = appendNewer(window(), page(range(125, 200)), 124);
    expect(seqsOf(upsertLive(live, message(201))).slice(-2)).toEqual([200, 201]);
  });

  it("stays where the reader is when the newest page is fetched again (reconnect), until they meet", () => {
    const held = window();
    expect(mergeLatest(held, newestPage())).toBe(held);
    const near = page(range(120, 150), true, true);
    const met = mergeLatest(near, newestPage());
    expect(seqsOf(met)).toEqual(range(120, 200));
    expect(met).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false });
  });

  it("reaches a message's place when it holds it, or nothing lies beyond its ends", () => {
    expect(spansSeq(newestPage(), 100)).toBe(false);
    expect(spansSeq(window(), 100)).toBe(true);
    expect(spansSeq(page(range(5, 20), false, false), 2)).toBe(true);
    expect(spansSeq(page(range(5, 20), false, false), 99)).toBe(true);
    expect(spansSeq(page(range(5, 20), true, true), 99)).toBe(false);
    expect(spansSeq(page([], false, false), 3)).toBe(true);
  });

  it("jumps to the latest page, keeping the window only when it joins up", () => {
    const jumped = showLatest(window(), newestPage());
    expect(seqsOf(jumped)).toEqual(range(151, 200));
    expect(jumped).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false });
    expect(seqsOf(showLatest(page(range(120, 160), true, true), newestPage()))).toEqual(range(120, 200));
    expect(seqsOf(showLatest(undefined, newestPage()))).toEqual(range(151, 200));
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
