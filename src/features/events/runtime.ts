import { DeliveryTracker } from "~/features/messages/delivery-tracker";
import { TypingNotifier } from "~/features/messages/typing";
import { InMemoryPresenceStore, RedisPresenceStore } from "~/features/presence/presence-store";
import { PresenceService } from "~/features/presence/presence.service";
import { getDatabase } from "~/server/db/client";
import { logger } from "~/server/logger";
import { getRealtime, type Realtime } from "~/server/realtime";
import { getRedis } from "~/server/redis";
import { EventHub } from "./event-hub";

// The live parts of messaging in this process, built on its real-time module:
// the hub that routes events to sockets, presence, typing and delivery receipts.

export interface MessagingRuntime {
  options: MessagingRuntimeOptions;
  hub: EventHub;
  presence: PresenceService;
  typing: TypingNotifier;
  deliveries: DeliveryTracker;
  close(): Promise<void>;
}

const globalForRuntime = globalThis as unknown as {
  __chatlineMessagingRuntime?: { runtime: MessagingRuntime; realtime: Realtime };
  __chatlineMessagingOptions?: MessagingRuntimeOptions;
};

export interface MessagingRuntimeOptions {
  offlineGraceMs?: number;
  sessionCheckMs?: number;
  queueCapacity?: number;
  socketHighWaterBytes?: number;
}

/** Settings from the environment, given by the server at start. */
export function configureMessagingRuntime(options: MessagingRuntimeOptions): void {
  globalForRuntime.__chatlineMessagingOptions = options;
}

export function getMessagingRuntime(): MessagingRuntime {
  const realtime = getRealtime();
  const current = globalForRuntime.__chatlineMessagingRuntime;
  if (current && current.realtime === realtime) return current.runtime;
  // A runtime built on a real-time module that has since been replaced (a restart in one process).
  if (current) void current.runtime.close();
  const prisma = getDatabase().prisma;
  const redis = getRedis();
  const log = logger.child({ module: "messaging" });
  const hub = new EventHub(realtime.dispatcher, realtime.bus);
  const store = redis ? new RedisPresenceStore(redis, `${realtime.channelPrefix}presence:`) : new InMemoryPresenceStore();
  const presence = new PresenceService(store, prisma, hub, log, globalForRuntime.__chatlineMessagingOptions);
  const deliveries = new DeliveryTracker({ prisma, realtime }, log);
  const runtime: MessagingRuntime = {
    options: globalForRuntime.__chatlineMessagingOptions ?? {},
    hub,
    presence,
    typing: new TypingNotifier(hub),
    deliveries,
    async close() {
      presence.close();
      await deliveries.close();
      await store.close();
      hub.close();
      if (globalForRuntime.__chatlineMessagingRuntime?.runtime === runtime) globalForRuntime.__chatlineMessagingRuntime = undefined;
    },
  };
  globalForRuntime.__chatlineMessagingRuntime = { runtime, realtime };
  return runtime;
}

/** The runtime built on `realtime`, if this process has needed one yet; without one it has no subscribers. */
export function startedMessagingRuntime(realtime: Realtime): MessagingRuntime | undefined {
  const current = globalForRuntime.__chatlineMessagingRuntime;
  return current?.realtime === realtime ? current.runtime : undefined;
}

/** Closes the runtime if one was started (server shutdown). */
export async function closeMessagingRuntime(): Promise<void> {
  await globalForRuntime.__chatlineMessagingRuntime?.runtime.close();
}
