// Who is told about a new message, and how: the rules of issue 8 as pure functions,
// so the service that applies them (and its tests) share one reading of them.
// A member hears of a message unless they are looking at its conversation, muted
// it, turned the category off, or are inside their do-not-disturb window; several
// messages in a short time become one notification per conversation.

export type NotificationCategory = "SOCIAL" | "SYSTEM";

export interface ChannelPreference {
  inApp: boolean;
  email: boolean;
  push: boolean;
}

export interface DoNotDisturb {
  enabled: boolean;
  /** "HH:MM", local to `timeZone`; the window may wrap midnight (22:00-07:00). */
  start: string;
  end: string;
  /** An IANA time zone; an unknown one is read as UTC rather than failing a send. */
  timeZone: string;
}

/** Messages to one conversation within this long of an unread notification join it. */
export const COLLAPSE_WINDOW_MS = 10 * 60_000;

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes after local midnight of "HH:MM", or null when it is not a time of day. */
export function minutesOfDay(text: string): number | null {
  const match = HH_MM.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

/** The wall-clock minutes after midnight at `now` in `timeZone` (UTC when the zone is unknown). */
export function localMinutes(now: Date, timeZone: string): number {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(now);
  } catch {
    return now.getUTCHours() * 60 + now.getUTCMinutes();
  }
  const value = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  return value("hour") * 60 + value("minute");
}

/**
 * Whether `now` falls inside the do-not-disturb window: from `start` (included) to
 * `end` (excluded), wrapping midnight when `start` is later than `end`. Equal start
 * and end make an empty window (the schedule is effectively off), as a malformed time does.
 */
export function isDoNotDisturb(schedule: DoNotDisturb, now: Date): boolean {
  if (!schedule.enabled) return false;
  const start = minutesOfDay(schedule.start);
  const end = minutesOfDay(schedule.end);
  if (start === null || end === null || start === end) return false;
  const at = localMinutes(now, schedule.timeZone);
  return start < end ? at >= start && at < end : at >= start || at < end;
}

export interface Recipient {
  /** Has the conversation open on a visible screen right now. */
  viewing: boolean;
  muted: boolean;
  preference: ChannelPreference;
  doNotDisturb: DoNotDisturb;
  /** Offline (no live socket) for longer than the installation's away time. */
  away: boolean;
}

/** The channels a new message reaches `recipient` on; all false means they are not told. */
export function channelsFor(recipient: Recipient, now: Date): ChannelPreference {
  const none = { inApp: false, email: false, push: false };
  if (recipient.viewing || recipient.muted || isDoNotDisturb(recipient.doNotDisturb, now)) return none;
  return {
    inApp: recipient.preference.inApp,
    // Email and push are for people who are not at the app: a digest or a push per burst.
    email: recipient.away && recipient.preference.email,
    push: recipient.away && recipient.preference.push,
  };
}

/**
 * Whether a new message of a conversation joins that conversation's latest
 * notification instead of making another: it is still unread and was last
 * touched within COLLAPSE_WINDOW_MS.
 */
export function joinsLatest(latest: { readAt: Date | null; updatedAt: Date } | null, now: Date): boolean {
  if (!latest || latest.readAt !== null) return false;
  const age = now.getTime() - latest.updatedAt.getTime();
  return age >= 0 && age < COLLAPSE_WINDOW_MS;
}
