import type { Logger } from "~/server/logger";
import type { EventBus } from "./event-bus";
import type { StoredEvent } from "./event-store";
import { freezeForFanOut } from "./fan-out";

// Turns the live path (the bus: fast, but lossy and unordered across publishers)
// into a complete stream of durable events in exact id order, per process.
// Event ids are gap-free and committed in order, so a missing id below one we
// hold is always in the database: after a short wait it is read from there. A
// publisher that died between its commit and its publish leaves a gap at the
// tail, which a periodic look at the counter finds.

export interface DispatcherSource {
  lastEventId(): Promise<bigint>;
  readEventRange(afterId: bigint, upToId: bigint): Promise<StoredEvent[]>;
}

export interface DispatcherOptions {
  /** How long an out-of-order event waits for the ones before it before the database is asked. */
  gapWaitMs?: number;
  /** How often the tail is compared with the database counter. */
  tailCheckMs?: number;
}

export type DurableListener = (event: StoredEvent) => void;

export class EventDispatcher {
  private position = 0n;
  private readonly pending = new Map<bigint, StoredEvent>();
  private readonly listeners = new Set<DurableListener>();
  private unsubscribe: (() => void) | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  private tailTimer: NodeJS.Timeout | undefined;
  private repairing: Promise<void> | undefined;
  private stopped = false;
  private readonly gapWaitMs: number;
  private readonly tailCheckMs: number;

  constructor(
    private readonly bus: EventBus,
    private readonly source: DispatcherSource,
    private readonly log: Logger,
    options: DispatcherOptions = {},
  ) {
    this.gapWaitMs = options.gapWaitMs ?? 200;
    this.tailCheckMs = options.tailCheckMs ?? 1000;
  }

  /** The id of the last event handed to listeners: everything up to it has been. */
  get lastDispatchedId(): bigint {
    return this.position;
  }

  async start(): Promise<void> {
    const stopBatches = this.bus.subscribe("event-batches", (message) => this.receive(message));
    const stopSingles = this.bus.subscribe("events", (message) => this.receive(message));
    this.unsubscribe = () => {
      stopBatches();
      stopSingles();
    };
    this.position = await this.source.lastEventId();
    // Anything the bus delivered while we read the counter is at or below it, or kept.
    for (const id of this.pending.keys()) if (id <= this.position) this.pending.delete(id);
    this.drain();
    this.scheduleTailCheck();
  }

  addListener(listener: DurableListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Publishes committed events on the bus (callers do this right after their commit). */
  async publish(events: StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    // One bus message per commit (a batch of sends is one), not one per event.
    await this.bus.publish("event-batches", JSON.stringify(events));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.gapTimer);
    clearTimeout(this.tailTimer);
    await this.repairing?.catch(() => undefined);
  }

  private receive(message: string) {
    let events: StoredEvent[];
    try {
      const parsed = JSON.parse(message) as StoredEvent | StoredEvent[];
      events = Array.isArray(parsed) ? parsed : [parsed];
      // A malformed message must not throw inside the bus's socket handler.
      if (!events.every((event) => typeof event?.id === "string" && /^\d+$/.test(event.id))) throw new Error("no event id");
    } catch {
      // Nothing is lost: the gap is read from the database.
      this.log.warn("dropped an unreadable event from the bus");
      return;
    }
    this.accept(events);
  }

  private accept(events: StoredEvent[]) {
    for (const event of events) {
      const id = BigInt(event.id);
      if (id > this.position) this.pending.set(id, event);
    }
    this.drain();
  }

  private drain() {
    if (this.stopped) return;
    let next = this.position + 1n;
    let event = this.pending.get(next);
    while (event) {
      this.pending.delete(next);
      this.position = next;
      // Shared by every subscriber it reaches, and serialized once for all of them.
      freezeForFanOut(event);
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (error) {
          this.log.error({ err: error, eventId: event.id }, "event listener failed");
        }
      }
      next = this.position + 1n;
      event = this.pending.get(next);
    }
    if (this.pending.size > 0 && !this.gapTimer) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        void this.repair();
      }, this.gapWaitMs);
    }
  }

  /** Reads from the database every event between what we dispatched and `upTo` (default: the newest held). */
  private repair(upTo?: bigint): Promise<void> {
    if (this.repairing) return this.repairing;
    const target = upTo ?? [...this.pending.keys()].reduce((max, id) => (id > max ? id : max), 0n);
    if (target <= this.position) return Promise.resolve();
    this.repairing = (async () => {
      try {
        let after = this.position;
        while (after < target && !this.stopped) {
          const batch = await this.source.readEventRange(after, target);
          if (batch.length === 0) break;
          this.accept(batch);
          after = BigInt(batch[batch.length - 1]!.id);
        }
      } catch (error) {
        this.log.warn({ err: error }, "reading missed events failed; retrying");
      } finally {
        this.repairing = undefined;
      }
      if (this.pending.size > 0) this.drain();
    })();
    return this.repairing;
  }

  private scheduleTailCheck() {
    if (this.stopped) return;
    this.tailTimer = setTimeout(async () => {
      try {
        const last = await this.source.lastEventId();
        if (last > this.position) await this.repair(last);
      } catch (error) {
        this.log.warn({ err: error }, "checking for missed events failed");
      }
      this.scheduleTailCheck();
    }, this.tailCheckMs);
    this.tailTimer.unref();
  }
}
