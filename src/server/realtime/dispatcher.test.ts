import { describe, expect, it, vi } from "vitest";
import pino from "pino";
import { EventDispatcher } from "./dispatcher";
import { InProcessEventBus } from "./event-bus";
import type { StoredEvent } from "./event-store";

// The listener-failure test logs on purpose; keep the run's output clean.
const logger = pino({ level: "silent" });

function event(id: number): StoredEvent {
  return { id: String(id), type: "test", conversationId: null, userId: null, messageId: null, payload: { n: id } };
}

/** A database stand-in holding committed events 1..committed. */
function fakeSource(committed: { last: number }) {
  const reads: [number, number][] = [];
  return {
    reads,
    lastEventId: async () => BigInt(committed.last),
    readEventRange: async (after: bigint, upTo: bigint) => {
      reads.push([Number(after), Number(upTo)]);
      const out: StoredEvent[] = [];
      for (let id = Number(after) + 1; id <= Math.min(Number(upTo), committed.last); id++) out.push(event(id));
      return out;
    },
  };
}

async function setup(committedAtStart: number, options = { gapWaitMs: 20, tailCheckMs: 60_000 }) {
  const bus = new InProcessEventBus();
  const committed = { last: committedAtStart };
  const source = fakeSource(committed);
  const dispatcher = new EventDispatcher(bus, source, logger, options);
  const seen: number[] = [];
  dispatcher.addListener((e) => seen.push(Number(e.id)));
  await dispatcher.start();
  const publish = (id: number) => bus.publish("events", JSON.stringify(event(id)));
  return { bus, dispatcher, committed, source, seen, publish };
}

describe("EventDispatcher", () => {
  it("ignores a malformed bus message instead of throwing in the bus's handler, and reads on", async () => {
    const { bus, dispatcher, committed, seen } = await setup(0);
    committed.last = 1;
    await bus.publish("event-batches", JSON.stringify({ nothing: "here" }));
    await bus.publish("event-batches", "not json");
    await bus.publish("event-batches", JSON.stringify([event(1)]));
    await vi.waitFor(() => expect(seen).toEqual([1]));
    await dispatcher.stop();
  });

  it("publishes a commit's events as one bus message, reads single events too, and hands them out frozen", async () => {
    const { bus, dispatcher, committed } = await setup(0);
    const messages: string[] = [];
    bus.subscribe("event-batches", (message) => messages.push(message));
    const received: StoredEvent[] = [];
    dispatcher.addListener((e) => received.push(e));
    committed.last = 3;
    await dispatcher.publish([event(1), event(2)]);
    // What an instance of an earlier version publishes: one event per message.
    await bus.publish("events", JSON.stringify(event(3)));
    await vi.waitFor(() => expect(received.map((e) => Number(e.id))).toEqual([1, 2, 3]));
    // The batch went on its own channel: an earlier instance, reading "events" only, never gets an array.
    expect(messages).toHaveLength(1);
    expect(received.every((e) => Object.isFrozen(e) && Object.isFrozen(e.payload))).toBe(true);
    await dispatcher.stop();
  });

  it("starts after what was committed before it and dispatches in order", async () => {
    const { seen, publish, committed, dispatcher } = await setup(10);
    committed.last = 12;
    await publish(11);
    await publish(12);
    await vi.waitFor(() => expect(seen).toEqual([11, 12]));
    expect(dispatcher.lastDispatchedId).toBe(12n);
    await dispatcher.stop();
  });

  it("reorders events that arrive out of order and drops duplicates", async () => {
    const { seen, publish, committed, dispatcher, source } = await setup(0, { gapWaitMs: 5_000, tailCheckMs: 60_000 });
    committed.last = 3;
    await publish(2);
    await publish(3);
    await publish(1);
    await publish(2);
    await vi.waitFor(() => expect(seen).toEqual([1, 2, 3]));
    expect(source.reads).toEqual([]);
    await dispatcher.stop();
  });

  it("reads an event lost on the bus from the database", async () => {
    const { seen, publish, committed, dispatcher, source } = await setup(0);
    committed.last = 3;
    await publish(1);
    await publish(3);
    await vi.waitFor(() => expect(seen).toEqual([1, 2, 3]));
    expect(source.reads[0]).toEqual([1, 3]);
    await dispatcher.stop();
  });

  it("finds events whose publisher died before publishing, by watching the counter", async () => {
    const { seen, committed, dispatcher } = await setup(5, { gapWaitMs: 20, tailCheckMs: 30 });
    committed.last = 8;
    await vi.waitFor(() => expect(seen).toEqual([6, 7, 8]));
    await dispatcher.stop();
  });

  it("keeps dispatching when a listener throws", async () => {
    const { dispatcher, publish, committed, seen } = await setup(0);
    dispatcher.addListener(() => {
      throw new Error("broken listener");
    });
    committed.last = 2;
    await publish(1);
    await publish(2);
    await vi.waitFor(() => expect(seen).toEqual([1, 2]));
    await dispatcher.stop();
  });
});
