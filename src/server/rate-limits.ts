import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type WebSocket from "ws";
import { getRedis } from "~/server/redis";

// The limits that keep one user or one socket from hurting the others (sign-in and
// sign-up have theirs in features/auth/auth-rate-limits.ts):
//
// - Message writes per user: sends, edits and reactions, each counted on its own
//   against the settings' `rateLimitPerMinute`. Counted in Redis when configured
//   (the limit holds across instances), in memory otherwise. The count is kept per
//   user, not per limit value, and compared with the current setting on every call,
//   so an admin's change applies at once to the minute already under way.
// - Calls per WebSocket connection (SOCKET_MESSAGES_PER_MINUTE): a socket lives on
//   one instance, so its count lives in that process. Calls past it are refused with
//   TOO_MANY_REQUESTS; a socket that keeps sending frames past twice the limit (junk,
//   pings, stops, calls it was refused) is closed with 1008.
//
// app-server.ts configures them at start; tests shorten the windows.

export interface RateLimitConfig {
  /** The window of the per-user write limits (the setting counts per minute; tests shorten it). */
  messageWindowSeconds: number;
  /** tRPC calls one WebSocket connection may make per socket window. */
  socketMessagesPerWindow: number;
  socketWindowSeconds: number;
}

const DEFAULTS: RateLimitConfig = { messageWindowSeconds: 60, socketMessagesPerWindow: 120, socketWindowSeconds: 60 };

/** Above any setting (10,000 a minute at most): the limit is compared by us, with the current setting. */
const UNCAPPED_POINTS = 1_000_000_000;

export type MessageWrite = "send" | "edit" | "react";

interface Limiters {
  config: RateLimitConfig;
  writes: Record<MessageWrite, RateLimiterAbstract>;
  socketCalls: RateLimiterMemory;
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
    writes: { send: shared("message-send"), edit: shared("message-edit"), react: shared("message-react") },
    socketCalls: new RateLimiterMemory({
      keyPrefix: "socket-calls",
      points: config.socketMessagesPerWindow,
      duration: config.socketWindowSeconds,
    }),
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
 * Counts one `kind` of message write by `userId` against `perWindow` (the settings'
 * rateLimitPerMinute): one call to the store. Resolves to 0, or to the ms until
 * the caller may write again. A refused attempt is given back, so the count never
 * runs past the limit and a raised limit lets the writer through at once.
 */
export async function takeMessageWrite(kind: MessageWrite, userId: string, perWindow: number): Promise<number> {
  const limiter = limiters().writes[kind];
  const taken = await limiter.consume(userId);
  if (taken.consumedPoints <= perWindow) return 0;
  await limiter.reward(userId, 1).catch(() => undefined);
  return Math.max(1, taken.msBeforeNext);
}

/** Gives back a write that turned out to be a retry of one already stored. */
export async function refundMessageWrite(kind: MessageWrite, userId: string): Promise<void> {
  await limiters().writes[kind].reward(userId, 1);
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
