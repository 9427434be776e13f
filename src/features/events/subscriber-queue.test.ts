import { describe, expect, it } from "vitest";
import type { StoredEvent } from "~/server/realtime/event-store";
import type { EphemeralEvent } from "./contracts";
import { SubscriberQueue } from "./subscriber-queue";

const durable = (id: number): StoredEvent => ({
  id: String(id),
  type: "message.created",
  conversationId: null,
  userId: null,
  messageId: null,
  payload: {},
});
const typing: EphemeralEvent = {
  type: "typing",
  conversationId: "00000000-0000-4000-8000-000000000001",
  userId: "00000000-0000-4000-8000-000000000002",
  isTyping: true,
  expiresAt: new Date().toISOString(),
};

describe("SubscriberQueue", () => {
  it("hands items out in order", async () => {
    const queue = new SubscriberQueue(10, 5);
    queue.pushDurable(durable(1));
    queue.pushEphemeral(typing);
    queue.pushDurable(durable(2));
    const kinds = [];
    for (let i = 0; i < 3; i++) kinds.push((await queue.next(undefined))?.kind);
    expect(kinds).toEqual(["durable", "ephemeral", "durable"]);
  });

  it("sheds typing and presence first when the client falls behind", () => {
    const queue = new SubscriberQueue(10, 3);
    for (let i = 1; i <= 3; i++) queue.pushDurable(durable(i));
    queue.pushEphemeral(typing);
    expect(queue.length).toBe(3);
  });

  it("drops queued ephemeral events to make room for durable ones", () => {
    const queue = new SubscriberQueue(4, 4);
    queue.pushDurable(durable(1));
    queue.pushEphemeral(typing);
    queue.pushEphemeral(typing);
    queue.pushDurable(durable(2));
    queue.pushDurable(durable(3));
    expect(queue.overflowed).toBe(false);
    expect(queue.length).toBe(3);
  });

  it("never drops a durable event silently: it overflows, and the connection is closed", async () => {
    const queue = new SubscriberQueue(3, 1);
    for (let i = 1; i <= 4; i++) queue.pushDurable(durable(i));
    expect(queue.overflowed).toBe(true);
    expect(await queue.next(undefined)).toBeNull();
  });

  it("wakes a waiting reader, and stops on abort", async () => {
    const queue = new SubscriberQueue();
    const waiting = queue.next(undefined);
    queue.pushDurable(durable(7));
    expect((await waiting)?.kind).toBe("durable");
    const controller = new AbortController();
    const aborted = queue.next(controller.signal);
    controller.abort();
    expect(await aborted).toBeNull();
  });
});
