import { vi } from "vitest";
import type { ClientEvent, Receipt } from "~/features/events/contracts";
import type { NodeTrpcClient } from "~/trpc/node-client";

/** Subscribes to events.onEvent and keeps everything that arrives, for assertions. */
export function collectEvents(client: NodeTrpcClient, input?: { lastEventId?: string | null }) {
  const events: ClientEvent[] = [];
  const errors: unknown[] = [];
  let lastId: string | undefined;
  const subscription = client.api.events.onEvent.subscribe(input ?? null, {
    onData: (envelope) => {
      const { id, data } = envelope as unknown as { id: string; data: ClientEvent };
      if (data === undefined) {
        events.push(envelope as unknown as ClientEvent);
        return;
      }
      lastId = id;
      events.push(data);
    },
    onError: (error) => errors.push(error),
  });
  return {
    events,
    errors,
    get lastEventId() {
      return lastId;
    },
    ofType<T extends ClientEvent["type"]>(type: T) {
      return events.filter((event): event is Extract<ClientEvent, { type: T }> => event.type === type);
    },
    /** Every position move heard, whether one per event or several in one. */
    receipts(): Receipt[] {
      return events.flatMap((event) =>
        event.type === "receipts.updated" ? event.receipts : event.type === "receipt.updated" ? [event] : [],
      );
    },
    async ready() {
      await vi.waitFor(() => {
        if (!events.some((event) => event.type === "ready")) throw new Error("not ready yet");
      });
    },
    stop: () => subscription.unsubscribe(),
  };
}

/** Connects, takes the cursor the stream hands out, and disconnects: a client about to go away. */
export async function cursorOf(client: NodeTrpcClient): Promise<string> {
  const events = collectEvents(client);
  await events.ready();
  events.stop();
  return events.lastEventId!;
}
