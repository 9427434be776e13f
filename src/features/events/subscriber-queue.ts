import type { StoredEvent } from "~/server/realtime/event-store";
import type { EphemeralEvent } from "./contracts";

// What one subscription has received but not yet sent. Bounded: typing and
// presence are shed first (they are stale in seconds anyway); if durable events
// alone fill it, the queue reports overflow and the connection is closed, and
// the client resumes from its cursor, losing nothing.

export type QueueItem = { kind: "durable"; event: StoredEvent } | { kind: "ephemeral"; event: EphemeralEvent };

export class SubscriberQueue {
  private items: QueueItem[] = [];
  private wake: (() => void) | undefined;
  overflowed = false;

  constructor(
    private readonly capacity = 2_000,
    /** Above this many queued items, new ephemeral events are dropped. */
    private readonly ephemeralCeiling = Math.floor(capacity / 4),
  ) {}

  get length(): number {
    return this.items.length;
  }

  pushDurable(event: StoredEvent): void {
    if (this.items.length >= this.capacity) {
      this.items = this.items.filter((item) => item.kind === "durable");
      if (this.items.length >= this.capacity) {
        this.markOverflow();
        return;
      }
    }
    this.items.push({ kind: "durable", event });
    this.notify();
  }

  pushEphemeral(event: EphemeralEvent): void {
    if (this.items.length >= this.ephemeralCeiling) return;
    this.items.push({ kind: "ephemeral", event });
    this.notify();
  }

  markOverflow(): void {
    this.overflowed = true;
    this.items = [];
    this.notify();
  }

  /** The next item; null when the queue overflowed or `signal` aborted. */
  async next(signal: AbortSignal | undefined): Promise<QueueItem | null> {
    while (this.items.length === 0 && !this.overflowed && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        this.wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      this.wake = undefined;
    }
    if (this.overflowed || signal?.aborted) return null;
    return this.items.shift() ?? null;
  }

  private notify() {
    this.wake?.();
  }
}
