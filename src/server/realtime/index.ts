import type { Db } from "~/server/db/client";
import type { Logger } from "~/server/logger";
import { createEventBus, type EventBus } from "./event-bus";
import { installationId, lastEventId, readEventRange, type StoredEvent } from "./event-store";
import { EventDispatcher, type DispatcherOptions } from "./dispatcher";

// The real-time module of a process: the bus (Redis or in-process) and the
// dispatcher that makes its durable events complete and ordered. Services publish
// through it after their transaction commits; the event stream feature listens.

export interface Realtime {
  bus: EventBus;
  /** Redis key prefix of this installation (bus channels, presence). */
  channelPrefix: string;
  dispatcher: EventDispatcher;
  /** Hands committed events to every instance (this one included). */
  publish(events: StoredEvent[]): Promise<void>;
  close(): Promise<void>;
}

const globalForRealtime = globalThis as unknown as { __chatlineRealtime?: Realtime };

export async function startRealtime(options: {
  prisma: Db;
  redisUrl: string | null;
  log: Logger;
  dispatcher?: DispatcherOptions;
}): Promise<Realtime> {
  // Installations sharing a Redis must not hear each other's events (ids would collide).
  const channelPrefix = `chatline:${await installationId(options.prisma)}:`;
  const bus = createEventBus(options.redisUrl, channelPrefix);
  const dispatcher = new EventDispatcher(
    bus,
    {
      lastEventId: () => lastEventId(options.prisma),
      readEventRange: (afterId, upToId) => readEventRange(options.prisma, afterId, upToId),
    },
    options.log.child({ module: "dispatcher" }),
    options.dispatcher,
  );
  await dispatcher.start();
  const realtime: Realtime = {
    bus,
    channelPrefix,
    dispatcher,
    async publish(events) {
      // A failed publish loses nothing: the dispatchers read the gap from the database.
      await dispatcher.publish(events).catch((error: unknown) => {
        options.log.warn({ err: error }, "publishing events failed; instances will read them from the database");
      });
    },
    async close() {
      await dispatcher.stop();
      await bus.close();
      if (globalForRealtime.__chatlineRealtime === realtime) globalForRealtime.__chatlineRealtime = undefined;
    },
  };
  globalForRealtime.__chatlineRealtime = realtime;
  return realtime;
}

export function getRealtime(): Realtime {
  const realtime = globalForRealtime.__chatlineRealtime;
  if (!realtime) throw new Error("Real-time is not started: startAppServer starts it before serving.");
  return realtime;
}
