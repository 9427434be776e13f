import { EventEmitter } from "node:events";
import { Redis } from "ioredis";
import { disconnectRedis } from "~/server/redis";

// The live path between server instances. It carries strings (each event is
// serialized once, by its publisher) on a few channels. Delivery is best effort:
// durable events are also in PostgreSQL, and the dispatcher repairs any gap from
// there, so a lost or reordered bus message never becomes a lost or reordered
// event for a client.

/**
 * `event-batches`: a commit's durable events as one JSON array. `events`: one event
 * per message, what earlier versions publish and read; it is still read, so a rolling
 * deploy loses nothing live in either direction, and an earlier instance (which would
 * fail on an array) never sees a batch: it reads those events from PostgreSQL.
 */
export type BusChannel = "events" | "event-batches" | "ephemeral" | "control";

export interface EventBus {
  readonly kind: "in-process" | "redis";
  publish(channel: BusChannel, message: string): Promise<void>;
  /** Returns the function that stops this subscription. */
  subscribe(channel: BusChannel, handler: (message: string) => void): () => void;
  close(): Promise<void>;
}

export class InProcessEventBus implements EventBus {
  readonly kind = "in-process" as const;
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(channel: BusChannel, message: string): Promise<void> {
    // Asynchronous like Redis, so no caller depends on synchronous delivery.
    queueMicrotask(() => this.emitter.emit(channel, message));
  }

  subscribe(channel: BusChannel, handler: (message: string) => void): () => void {
    this.emitter.on(channel, handler);
    return () => this.emitter.off(channel, handler);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/**
 * Redis pub/sub with one publishing and one subscribing connection per process,
 * whatever the number of sockets. Channel names carry the installation's id, so
 * several installations (or test databases) can share one Redis.
 */
export class RedisEventBus implements EventBus {
  readonly kind = "redis" as const;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly local = new EventEmitter().setMaxListeners(0);
  private readonly subscribed = new Set<string>();

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    // Fails at once while disconnected instead of queueing: a send must not wait
    // for Redis, and the events it would carry are read from PostgreSQL anyway.
    this.publisher = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: false });
    // No ready check (INFO) or client info (CLIENT SETINFO) on the subscribing
    // connection: a SUBSCRIBE issued while it connects would race them, fail the
    // ready check and lose the subscriptions made at start (ioredis #2037).
    this.subscriber = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false, disableClientInfo: true });
    // Reconnects are ioredis' job (it resubscribes); health reports an outage.
    this.publisher.on("error", () => {});
    this.subscriber.on("error", () => {});
    this.subscriber.on("message", (channel: string, message: string) => {
      this.local.emit(channel.slice(this.prefix.length), message);
    });
  }

  async publish(channel: BusChannel, message: string): Promise<void> {
    await this.publisher.publish(this.prefix + channel, message);
  }

  subscribe(channel: BusChannel, handler: (message: string) => void): () => void {
    if (!this.subscribed.has(channel)) {
      this.subscribed.add(channel);
      void this.subscriber.subscribe(this.prefix + channel).catch(() => this.subscribed.delete(channel));
    }
    this.local.on(channel, handler);
    return () => this.local.off(channel, handler);
  }

  async close(): Promise<void> {
    this.local.removeAllListeners();
    await Promise.all([disconnectRedis(this.publisher), disconnectRedis(this.subscriber)]);
  }
}

export function createEventBus(redisUrl: string | null, channelPrefix: string): EventBus {
  return redisUrl ? new RedisEventBus(redisUrl, channelPrefix) : new InProcessEventBus();
}
