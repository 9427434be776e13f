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

/** An older page goes in front; messages already held win (they may carry newer edits). */
export function prependOlder(timeline: Timeline, older: Timeline): Timeline {
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
  const lastSeq = latest.items[latest.items.length - 1]?.seq ?? 0;
  const newer = held.items.filter((item) => item.seq > lastSeq);
  if (!first) return { ...latest, items: newer };
  const newestHeld = held.items[held.items.length - 1];
  const joinsUp = newestHeld !== undefined && newestHeld.seq >= first.seq - 1;
  const older = joinsUp ? held.items.filter((item) => item.seq < first.seq) : [];
  return {
    items: [...older, ...latest.items, ...newer],
    hasMoreBefore: older.length > 0 ? held.hasMoreBefore : latest.hasMoreBefore,
    hasMoreAfter: false,
  };
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
