import type { Message } from "./contracts";

// The loaded part of one conversation as the client holds it (oldest first), and
// the rows the conversation view draws from it. Pure functions: the event stream,
// the send path and paging all go through them, so they agree on order and identity.

export interface Timeline {
  items: Message[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
}

/** Insert or replace by id, keeping seq order (events and send responses race). */
export function upsertMessage(items: Message[], message: Message): Message[] {
  const existing = items.findIndex((item) => item.id === message.id);
  if (existing !== -1) return items.map((item, index) => (index === existing ? message : item));
  let at = items.length;
  while (at > 0 && items[at - 1]!.seq > message.seq) at -= 1;
  return [...items.slice(0, at), message, ...items.slice(at)];
}

export function patchMessage(items: Message[], messageId: string, patch: (message: Message) => Message): Message[] {
  return items.map((item) => (item.id === messageId ? patch(item) : item));
}

/** `page`'s messages that `held` lacks, put in seq order among them; the held copies win (they may carry newer edits). */
function addMissing(held: Message[], page: Message[]): Message[] {
  const known = new Set(held.map((item) => item.id));
  return page.filter((item) => !known.has(item.id)).reduce(upsertMessage, held);
}

/**
 * An older page goes in front; messages already held win (they may carry newer edits).
 * Given the `beforeSeq` it was fetched with, a page for a timeline whose oldest message
 * is no longer that one (it jumped to another place meanwhile) is dropped: it would not
 * join up.
 */
export function prependOlder(timeline: Timeline, older: Timeline, beforeSeq?: number): Timeline {
  if (beforeSeq !== undefined && timeline.items[0]?.seq !== beforeSeq) return timeline;
  // All older than what is held: in front as a block, not one insertion each.
  const known = new Set(timeline.items.map((item) => item.id));
  return {
    ...timeline,
    items: [...older.items.filter((item) => !known.has(item.id)), ...timeline.items],
    hasMoreBefore: older.hasMoreBefore,
  };
}

/**
 * Merges a freshly fetched newest page into what is held. The page is a snapshot:
 * anything held that is newer than its last message arrived by event while it was
 * on its way and is kept. Older loaded pages are kept when they join up with the
 * page (the reader's scroll position survives a reconnect); when there is a gap
 * between them, the older ones are dropped. The server's copy wins for messages in
 * both (edits and deletions made while away).
 */
export function mergeLatest(held: Timeline | undefined, latest: Timeline): Timeline {
  if (!held) return latest;
  const first = latest.items[0];
  const newestHeld = held.items[held.items.length - 1];
  const joinsUp = newestHeld !== undefined && first !== undefined && newestHeld.seq >= first.seq - 1;
  // A window further back (a search result) stays where the reader is: the newest page
  // joins it only once paging down has come close enough to meet it.
  if (held.hasMoreAfter && !joinsUp) return held;
  const lastSeq = latest.items[latest.items.length - 1]?.seq ?? 0;
  const newer = held.items.filter((item) => item.seq > lastSeq);
  if (!first) return { ...latest, items: newer };
  const older = joinsUp ? held.items.filter((item) => item.seq < first.seq) : [];
  return {
    items: [...older, ...latest.items, ...newer],
    hasMoreBefore: older.length > 0 ? held.hasMoreBefore : latest.hasMoreBefore,
    hasMoreAfter: newer.length > 0 ? false : latest.hasMoreAfter,
  };
}

// Opening a search result puts a window of history around the message into the
// timeline: `hasMoreAfter` says it stops short of the newest message. Paging down
// extends it until a page reaches the newest, and from then on it is the live
// timeline again. While it is a window, nothing may be added after its end: the
// messages between would be missing without anything showing it.

/**
 * A page around a message (opening a search result). It joins what is held when the
 * two overlap or touch; otherwise it replaces it, since history with a hole in it
 * could not be scrolled through. Where both hold a message, the held copy wins
 * (events keep it current).
 */
export function mergeAround(held: Timeline | undefined, around: Timeline): Timeline {
  const heldFirst = held?.items[0];
  const heldLast = held?.items[held.items.length - 1];
  const first = around.items[0];
  const last = around.items[around.items.length - 1];
  if (!held || !heldFirst || !heldLast) return around;
  if (!first || !last) return held;
  if (first.seq > heldLast.seq + 1 || last.seq < heldFirst.seq - 1) return around;
  return {
    items: addMissing(held.items, around.items),
    hasMoreBefore: first.seq < heldFirst.seq ? around.hasMoreBefore : held.hasMoreBefore,
    hasMoreAfter: last.seq > heldLast.seq ? around.hasMoreAfter : held.hasMoreAfter,
  };
}

/**
 * A page fetched after `afterSeq` while scrolling down a window goes at the end; the
 * page that reaches the newest message makes the timeline live. A page for a timeline
 * that is live already, or no longer holds `afterSeq` (it jumped elsewhere meanwhile),
 * is dropped.
 */
export function appendNewer(timeline: Timeline, newer: Timeline, afterSeq: number): Timeline {
  if (!timeline.hasMoreAfter || !timeline.items.some((item) => item.seq === afterSeq)) return timeline;
  return {
    ...timeline,
    items: addMissing(timeline.items, newer.items),
    hasMoreAfter: newer.hasMoreAfter,
  };
}

/**
 * A message from the event stream or a send response. A window takes only messages
 * within its range (edits of what it shows); a newer one would sit after a gap of
 * unloaded history, and paging down brings it in its place.
 */
export function upsertLive(timeline: Timeline, message: Message): Timeline {
  const newest = timeline.items[timeline.items.length - 1];
  if (timeline.hasMoreAfter && newest && message.seq > newest.seq) return timeline;
  return { ...timeline, items: upsertMessage(timeline.items, message) };
}

/** Whether the timeline reaches the place of `seq` (it holds it, or nothing exists beyond its ends). */
export function spansSeq(timeline: Timeline, seq: number): boolean {
  const first = timeline.items[0];
  const last = timeline.items[timeline.items.length - 1];
  if (!first || !last) return !timeline.hasMoreBefore && !timeline.hasMoreAfter;
  return (first.seq <= seq || !timeline.hasMoreBefore) && (last.seq >= seq || !timeline.hasMoreAfter);
}

/** "Jump to latest": the newest page, keeping what is held only where it joins up with it. */
export function showLatest(held: Timeline | undefined, latest: Timeline): Timeline {
  return mergeLatest(held && { ...held, hasMoreAfter: false }, latest);
}

export type TimelineRow =
  | { kind: "day"; key: string; date: Date }
  | { kind: "unread"; key: "unread" }
  | { kind: "message"; key: string; message: Message; startsGroup: boolean };

/** Messages from one sender within this long of each other are drawn as one group. */
export const GROUP_WINDOW_MS = 5 * 60_000;

function dayKey(date: Date): string {
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

/**
 * Day separators, the "new messages" divider before `firstUnreadSeq`, and for each
 * message whether it starts a new group (another sender, a system message, a new
 * day, or a pause of more than GROUP_WINDOW_MS).
 */
export function buildRows(items: Message[], firstUnreadSeq: number | null): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let previous: Message | undefined;
  for (const message of items) {
    const newDay = !previous || dayKey(previous.createdAt) !== dayKey(message.createdAt);
    if (newDay) rows.push({ kind: "day", key: `day-${dayKey(message.createdAt)}`, date: message.createdAt });
    const unreadHere = firstUnreadSeq !== null && message.seq === firstUnreadSeq;
    if (unreadHere) rows.push({ kind: "unread", key: "unread" });
    const startsGroup =
      newDay ||
      unreadHere ||
      !previous ||
      message.type === "SYSTEM" ||
      previous.type === "SYSTEM" ||
      previous.senderId !== message.senderId ||
      message.createdAt.getTime() - previous.createdAt.getTime() > GROUP_WINDOW_MS;
    rows.push({ kind: "message", key: message.id, message, startsGroup });
    previous = message;
  }
  return rows;
}

/** The first message someone else wrote after the reader's position, or null when all is read. */
export function firstUnreadSeq(items: Message[], lastReadSeq: number, viewerId: string): number | null {
  return items.find((item) => item.seq > lastReadSeq && item.type === "TEXT" && item.senderId !== viewerId)?.seq ?? null;
}
