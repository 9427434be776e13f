// Who is told about a new message, and how: the rules of issue 8 as pure functions,
// so the service that applies them (and its tests) share one reading of them.
// A member hears of a message unless they are looking at its conversation, muted
// it, turned the category off, or are inside their do-not-disturb window; several
// messages in a short time become one notification per conversation.

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

/** The schedule of someone who never saved one (the notification_settings defaults). */
export const DEFAULT_DO_NOT_DISTURB: DoNotDisturb = { enabled: false, start: "22:00", end: "07:00", timeZone: "UTC" };

/**
 * A saved schedule as its row holds it (notification_settings, or its columns
 * from a LEFT JOIN, null without a row), or the default without one.
 */
export function doNotDisturbOf(
  row: { dndEnabled: boolean | null; dndStart: string | null; dndEnd: string | null; timeZone: string | null } | null | undefined,
): DoNotDisturb {
  if (!row || row.dndEnabled === null) return DEFAULT_DO_NOT_DISTURB;
  return {
    enabled: row.dndEnabled,
    start: row.dndStart ?? DEFAULT_DO_NOT_DISTURB.start,
    end: row.dndEnd ?? DEFAULT_DO_NOT_DISTURB.end,
    timeZone: row.timeZone ?? DEFAULT_DO_NOT_DISTURB.timeZone,
  };
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
  /** Has the conversation open on a visible, focused screen right now. */
  viewing: boolean;
  muted: boolean;
  preference: ChannelPreference;
  doNotDisturb: DoNotDisturb;
  /** Not at the app: no connection, or every screen idle. */
  away: boolean;
}

/** How a new message reaches one member; all false: they are not told. */
export interface Delivery {
  /** A notification in the bell (new, or a burst's grown by one). */
  inApp: boolean;
  /** A browser push, when this message starts a burst. */
  push: boolean;
  /** Counted for the email digest, which goes out once they have been offline long enough. */
  digest: boolean;
}

export function deliveryFor(recipient: Recipient, now: Date): Delivery {
  if (recipient.viewing || recipient.muted) return { inApp: false, push: false, digest: false };
  // Do-not-disturb holds back what would interrupt now; the digest goes out after the window.
  const disturbing = !isDoNotDisturb(recipient.doNotDisturb, now);
  return {
    inApp: disturbing && recipient.preference.inApp,
    // Someone at the app sees the bell; a push is for a screen they are not in front of.
    push: disturbing && recipient.away && recipient.preference.push,
    digest: recipient.preference.email,
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

/**
 * Whether a push goes out for a new message: one per burst, so the first message
 * after a quiet COLLAPSE_WINDOW_MS, or the first since the person read the
 * conversation, pushes; the rest of the burst only grows the bell's notification.
 */
export function startsPushBurst(lastPushAt: Date | null, lastReadAt: Date | null, now: Date): boolean {
  if (!lastPushAt) return true;
  if (lastReadAt && lastReadAt >= lastPushAt) return true;
  return now.getTime() - lastPushAt.getTime() >= COLLAPSE_WINDOW_MS;
}
