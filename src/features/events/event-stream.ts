import { tracked, type TrackedEnvelope } from "@trpc/server";
import type WebSocket from "ws";
import type { Db } from "~/server/db/client";
import { DomainError } from "~/server/errors";
import { instanceId } from "~/server/instance";
import { recordDelivery } from "~/server/metrics";
import { lastEventId as currentEventId, oldestEventId, readEventsForUser } from "~/server/realtime/event-store";
import { RESYNC_REQUIRED, type ClientEvent } from "./contracts";
import type { EventHub, HubSubscriber } from "./event-hub";
import { SubscriberQueue } from "./subscriber-queue";

// One client's event stream: replay what it missed from PostgreSQL, then live
// events from the hub, never a duplicate and never a gap. The hub holds live
// events from the moment of registration, before the replay reads anything, so
// nothing committed in between can slip past; the snapshot id decides which of
// them the replay already covered.

const REPLAY_PAGE = 500;
/** WebSocket close code for "try again later": the client reconnects and resumes. */
const CLOSE_TRY_AGAIN_LATER = 1013;

export interface EventStreamOptions {
  prisma: Db;
  hub: EventHub;
  userId: string;
  lastEventId: string | null | undefined;
  signal: AbortSignal | undefined;
  socket: WebSocket | null;
  queueCapacity?: number;
  /** Socket bytes not yet flushed above which we stop sending and let the queue absorb. */
  socketHighWaterBytes?: number;
  /** Told of every message of someone else that goes out to this user (delivery receipts). */
  onMessageDelivered?: (conversationId: string, seq: number) => void;
}

export type StreamItem = TrackedEnvelope<ClientEvent> | ClientEvent;

async function membershipAt(prisma: Db, userId: string, eventId: bigint): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ conversation_id: string }[]>`
    SELECT DISTINCT conversation_id FROM conversation_memberships
     WHERE user_id = ${userId}::uuid AND joined_event_id <= ${eventId}
       AND (left_event_id IS NULL OR left_event_id > ${eventId})`;
  return rows.map((row) => row.conversation_id);
}

async function waitForSocketToDrain(
  socket: WebSocket | null,
  highWater: number,
  signal: AbortSignal | undefined,
  queue: SubscriberQueue,
) {
  while (socket && socket.bufferedAmount > highWater && !signal?.aborted && !queue.overflowed) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function* streamEvents(options: EventStreamOptions): AsyncGenerator<StreamItem> {
  const { prisma, hub, userId, signal, socket } = options;
  // Called once the generator resumes after a yield: tRPC has written the event to the socket.
  const noteDelivery = (event: { type: string; payload: Record<string, unknown> }, source: "live" | "replay") => {
    if (event.type !== "message.created") return;
    const message = event.payload.message as { conversationId: string; seq: number; senderId: string | null; createdAt: unknown };
    recordDelivery(source, message.createdAt);
    if (!options.onMessageDelivered) return;
    if (message.senderId && message.senderId !== userId) options.onMessageDelivered(message.conversationId, message.seq);
  };
  const queue = new SubscriberQueue(options.queueCapacity);
  const highWater = options.socketHighWaterBytes ?? 1024 * 1024;
  const subscriber: HubSubscriber = {
    userId,
    deliverDurable: (event) => queue.pushDurable(event),
    deliverEphemeral: (event) => queue.pushEphemeral(event),
    overflow: () => queue.markOverflow(),
  };
  hub.register(subscriber);
  try {
    const snapshot = await currentEventId(prisma);
    let cursor = snapshot;
    let replayed = 0;
    if (options.lastEventId) {
      cursor = BigInt(options.lastEventId);
      const oldest = await oldestEventId(prisma);
      if (cursor > snapshot || (oldest !== null && cursor < oldest - 1n)) {
        throw new DomainError("PRECONDITION_FAILED", RESYNC_REQUIRED);
      }
      while (cursor < snapshot && !signal?.aborted && !queue.overflowed) {
        const page = await readEventsForUser(prisma, userId, cursor, snapshot, REPLAY_PAGE);
        for (const event of page) {
          await waitForSocketToDrain(socket, highWater, signal, queue);
          // Live events piled up past the limit while we replayed: start over later from the cursor.
          if (queue.overflowed) break;
          yield tracked(event.id, event.payload as ClientEvent);
          noteDelivery(event, "replay");
          replayed += 1;
        }
        if (page.length < REPLAY_PAGE) break;
        cursor = BigInt(page[page.length - 1]!.id);
      }
    }
    if (queue.overflowed) {
      socket?.close(CLOSE_TRY_AGAIN_LATER, "Too far behind; resume from your last event");
      return;
    }
    hub.goLive(subscriber, snapshot, await membershipAt(prisma, userId, snapshot));
    // Tracked with the snapshot id: a client that reconnects resumes after it.
    yield tracked(snapshot.toString(), {
      type: "ready",
      userId,
      instanceId,
      lastEventId: snapshot.toString(),
      replayed,
    } satisfies ClientEvent);

    // The id of the last durable event sent. wsLink takes every item's id as its
    // cursor, and an item without one clears it (its reconnect would then skip
    // whatever was committed while it was away), so ephemeral events carry this one.
    let position = snapshot.toString();
    while (!signal?.aborted) {
      await waitForSocketToDrain(socket, highWater, signal, queue);
      const item = await queue.next(signal);
      if (!item) break;
      if (item.kind === "durable") {
        position = item.event.id;
        yield tracked(item.event.id, item.event.payload as ClientEvent);
        noteDelivery(item.event, "live");
      } else yield tracked(position, item.event);
    }
    if (queue.overflowed && !signal?.aborted) {
      // Too far behind to keep up in memory: the client reconnects and replays from its cursor.
      socket?.close(CLOSE_TRY_AGAIN_LATER, "Too far behind; resume from your last event");
    }
  } finally {
    hub.unregister(subscriber);
  }
}
