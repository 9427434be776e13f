import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type WebSocket from "ws";
import { DomainError } from "~/server/errors";
import { getRedis } from "~/server/redis";

// The limits that keep one user or one socket from hurting the others (sign-in and
// sign-up have theirs in features/auth/auth-rate-limits.ts):
//
// - Calls per user, by kind: message sends, edits and reactions are each counted
//   on their own against the settings' `rateLimitPerMinute`; every other call a
//   member makes has a budget that is a multiple of it (USER_CALL_BUDGETS), so an
//   admin tunes one number. Counted in Redis when configured (the limit holds
//   across instances), in memory otherwise. The count is kept per user, not per
//   limit value, and compared with the current setting on every call, so an
//   admin's change applies at once to the minute already under way.
// - Calls per WebSocket connection (SOCKET_MESSAGES_PER_MINUTE): a socket lives on
//   one instance, so its count lives in that process. Calls past it are refused with
//   TOO_MANY_REQUESTS; a socket that keeps sending frames past twice the limit (junk,
//   pings, stops, calls it was refused) is closed with 1008.
// - Data exports per user (GET /api/export): one per exportWindowSeconds (60 s),
//   counted for the person who downloads (an admin exporting others included), in
//   Redis when configured (with an in-memory fallback), in memory otherwise.
//
// app-server.ts configures them at start; tests shorten the windows.

export interface RateLimitConfig {
  /** The window of the per-user call limits (the setting counts per minute; tests shorten it). */
  messageWindowSeconds: number;
  /** tRPC calls one WebSocket connection may make per socket window. */
  socketMessagesPerWindow: number;
  socketWindowSeconds: number;
  /** One data export per user per this many seconds (tests shorten it). */
  exportWindowSeconds: number;
}

const DEFAULTS: RateLimitConfig = { messageWindowSeconds: 60, socketMessagesPerWindow: 120, socketWindowSeconds: 60, exportWindowSeconds: 60 };

/** Above any setting (10,000 a minute at most): the limit is compared by us, with the current setting. */
const UNCAPPED_POINTS = 1_000_000_000;

export type MessageWrite = "send" | "edit" | "react";

/**
 * What a member's other calls may cost a minute: a multiple of `rateLimitPerMinute`,
 * never below a floor, so a strict send limit does not starve what a client does
 * by itself (it refetches lists and marks read as events arrive, coalesced to
 * about one refetch a second: conversation-refresh.ts). At the default 60: 60
 * conversation changes, 60 deletions, 120 searches, 240 typing reports, 600 read
 * marks and 1,200 reads a minute. Generous for a person, a wall for a script.
 */
export const USER_CALL_BUDGETS = {
  /** Create a direct or group conversation, add or remove members, mute. */
  conversationChange: { timesSendLimit: 1, atLeast: 10 },
  /** Delete a message. */
  messageDelete: { timesSendLimit: 1, atLeast: 30 },
  /** Notification preferences, push subscriptions, announcements. */
  settingsChange: { timesSendLimit: 1, atLeast: 30 },
  /** Upload a file (the bytes are limited by the settings' file size). */
  upload: { timesSendLimit: 1, atLeast: 30 },
  /** Search people and conversations. */
  search: { timesSendLimit: 2, atLeast: 30 },
  /** Typing reports, and presence changes. */
  typing: { timesSendLimit: 4, atLeast: 60 },
  /** Read positions. */
  readMark: { timesSendLimit: 10, atLeast: 600 },
  /** Lists, pages, conversations, statuses, presence look-ups. */
  read: { timesSendLimit: 20, atLeast: 1_200 },
} as const;
export type UserCallKind = keyof typeof USER_CALL_BUDGETS;

/** What a member is told when a budget is spent. */
const TOO_OFTEN: Record<UserCallKind, string> = {
  conversationChange: "You are changing conversations too fast.",
  messageDelete: "You are deleting messages too fast.",
  settingsChange: "You are changing settings too fast.",
  upload: "You are uploading too fast.",
  search: "You are searching too fast.",
  typing: "Too many typing updates.",
  readMark: "Too many read updates.",
  read: "Too many requests.",
};

/** A member's budget of `kind` calls per window under the send limit `rateLimitPerMinute`. */
export function userCallBudget(kind: UserCallKind, rateLimitPerMinute: number): number {
  const { timesSendLimit, atLeast } = USER_CALL_BUDGETS[kind];
  return Math.max(atLeast, timesSendLimit * rateLimitPerMinute);
}

type CountedCall = MessageWrite | UserCallKind;

interface Limiters {
  config: RateLimitConfig;
  perUser: Record<CountedCall, RateLimiterAbstract>;
  socketCalls: RateLimiterMemory;
  exports: RateLimiterAbstract;
}

const globalForLimits = globalThis as unknown as { __chatlineRateLimits?: Limiters };

function build(config: RateLimitConfig): Limiters {
  const redis = getRedis();
  const shared = (keyPrefix: string): RateLimiterAbstract => {
    const options = { keyPrefix, points: UNCAPPED_POINTS, duration: config.messageWindowSeconds };
    const memory = new RateLimiterMemory(options);
    // An unreachable Redis falls back to counting in this process rather than failing every send.
    return redis ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory }) : memory;
  };
  return {
    config,
    perUser: {
      send: shared("message-send"),
      edit: shared("message-edit"),
      react: shared("message-react"),
      conversationChange: shared("user-conversation-change"),
      messageDelete: shared("user-message-delete"),
      settingsChange: shared("user-settings-change"),
      upload: shared("user-upload"),
      search: shared("user-search"),
      typing: shared("user-typing"),
      readMark: shared("user-read-mark"),
      read: shared("user-read"),
    },
    socketCalls: new RateLimiterMemory({
      keyPrefix: "socket-calls",
      points: config.socketMessagesPerWindow,
      duration: config.socketWindowSeconds,
    }),
    exports: (() => {
      const options = { keyPrefix: "user-export", points: 1, duration: config.exportWindowSeconds };
      const memory = new RateLimiterMemory(options);
      return redis ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory }) : memory;
    })(),
  };
}

function limiters(): Limiters {
  globalForLimits.__chatlineRateLimits ??= build(DEFAULTS);
  return globalForLimits.__chatlineRateLimits;
}

/** Sets the limits of this process (anything not given takes its default) and starts fresh counters. */
export function configureRateLimits(config: Partial<RateLimitConfig>): void {
  globalForLimits.__chatlineRateLimits = build({ ...DEFAULTS, ...config });
}

export function rateLimitConfig(): RateLimitConfig {
  return limiters().config;
}

/** "12 s": what a refusal tells the caller (never 0). */
export function retryIn(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))} s`;
}

/**
 * Counts one `kind` of call by `userId` against `perWindow` (for message writes,
 * the settings' rateLimitPerMinute): one call to the store. Resolves to 0, or to
 * the ms until the caller may call again. A refused attempt is given back, so the
 * count never runs past the limit and a raised limit lets the caller through at once.
 */
export async function takeUserCall(kind: CountedCall, userId: string, perWindow: number): Promise<number> {
  const limiter = limiters().perUser[kind];
  const taken = await limiter.consume(userId);
  if (taken.consumedPoints <= perWindow) return 0;
  await limiter.reward(userId, 1).catch(() => undefined);
  return Math.max(1, taken.msBeforeNext);
}

/**
 * Counts one `kind` call by `userId` against its budget under the send limit
 * `rateLimitPerMinute`; past it, TOO_MANY_REQUESTS saying when to try again.
 */
export async function chargeUserCall(kind: UserCallKind, userId: string, rateLimitPerMinute: number): Promise<void> {
  const retryAfterMs = await takeUserCall(kind, userId, userCallBudget(kind, rateLimitPerMinute));
  if (retryAfterMs > 0) {
    throw new DomainError("TOO_MANY_REQUESTS", `${TOO_OFTEN[kind]} Try again in ${retryIn(retryAfterMs)}.`, { retryAfterMs });
  }
}

/** Gives back a write that turned out to be a retry of one already stored. */
export async function refundMessageWrite(kind: MessageWrite, userId: string): Promise<void> {
  await limiters().perUser[kind].reward(userId, 1);
}

/** Counts one tRPC call on a WebSocket connection; resolves to 0, or to the ms until the socket may call again. */
export async function takeSocketCall(connectionId: string): Promise<number> {
  try {
    await limiters().socketCalls.consume(connectionId);
    return 0;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return Math.max(1, rejection.msBeforeNext);
    throw rejection;
  }
}

/**
 * Counts one data export by `userId` (the person downloading): resolves to 0, or to
 * the ms until they may export again. A refused attempt does not extend the window.
 */
export async function takeExport(userId: string): Promise<number> {
  try {
    await limiters().exports.consume(userId);
    return 0;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return Math.max(1, rejection.msBeforeNext);
    throw rejection;
  }
}

/** The close code for a socket that keeps sending past its limit (RFC 6455: policy violation). */
export const SOCKET_FLOOD_CLOSE_CODE = 1008;

/**
 * Counts every frame a socket sends (calls, stops, pings, junk). Twice the call
 * limit within one window is more than refused calls explain: the socket is closed.
 * Synchronous and per socket, so it costs a counter, not a store call.
 */
export function guardSocketFrames(socket: WebSocket): void {
  const { socketMessagesPerWindow, socketWindowSeconds } = rateLimitConfig();
  const ceiling = 2 * socketMessagesPerWindow;
  const windowMs = socketWindowSeconds * 1000;
  let windowStart = Date.now();
  let frames = 0;
  socket.on("message", () => {
    const now = Date.now();
    if (now - windowStart >= windowMs) {
      windowStart = now;
      frames = 0;
    }
    frames += 1;
    if (frames === ceiling + 1) socket.close(SOCKET_FLOOD_CLOSE_CODE, "Too many messages");
  });
}
