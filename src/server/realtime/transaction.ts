import type { Prisma } from "~/generated/prisma/client";
import type { ServiceDeps } from "~/server/service-deps";
import { appendEvents, type NewEvent, type StoredEvent } from "./event-store";

/**
 * Waiting for a connection counts against Prisma's maxWait (2 s by default); the
 * embedded database has one connection, so a burst of writes queues longer.
 */
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 15_000 };

export type AppendEvents = (events: NewEvent[]) => Promise<StoredEvent[]>;

/**
 * Runs `work` in one transaction in which it may append events, and publishes
 * those events once the transaction has committed. Appending takes the event
 * counter's row lock until the commit, so append as late in the work as possible.
 */
export async function withEvents<T>(
  deps: ServiceDeps,
  work: (tx: Prisma.TransactionClient, append: AppendEvents) => Promise<T>,
): Promise<T> {
  const { result, events } = await deps.prisma.$transaction(async (tx) => {
    const events: StoredEvent[] = [];
    const append: AppendEvents = async (newEvents) => {
      const stored = await appendEvents(tx, newEvents);
      events.push(...stored);
      return stored;
    };
    return { result: await work(tx, append), events };
  }, TRANSACTION_OPTIONS);
  await deps.realtime.publish(events);
  return result;
}
