import superjson from "superjson";
import { isSharedForFanOut } from "~/server/realtime/fan-out";

// One durable event goes to every member's socket, and tRPC serializes each
// subscription's output on its own: a message to a group of 100 would be walked
// by superjson 100 times. The dispatcher freezes events before handing them out
// (src/server/realtime/fan-out.ts), so such a value's serialized form is computed
// once and shared by every socket it goes to. Anything else is serialized as usual.

type Serialized = ReturnType<typeof superjson.serialize>;

const serializedOnce = new WeakMap<object, Serialized>();

function serializedFrozen(value: object): Serialized {
  let serialized = serializedOnce.get(value);
  if (!serialized) {
    serialized = superjson.serialize(value);
    serializedOnce.set(value, serialized);
  }
  return serialized;
}

/** tRPC hands a tracked event to the transformer as a fresh `{ id, data }` per recipient. */
function asTrackedEvent(value: object): { id: string; data: object } | undefined {
  const keys = Object.keys(value);
  if (keys.length !== 2 || !("id" in value) || !("data" in value)) return undefined;
  const { id, data } = value as { id: unknown; data: unknown };
  return typeof id === "string" && data !== null && typeof data === "object" && isSharedForFanOut(data) ? { id, data } : undefined;
}

function serializeOutput(value: unknown): Serialized {
  if (value === null || typeof value !== "object") return superjson.serialize(value);
  if (isSharedForFanOut(value)) return serializedFrozen(value);
  const tracked = asTrackedEvent(value);
  if (tracked) {
    const inner = serializedFrozen(tracked.data);
    // Plain JSON inside (events come from JSON): the wrapper adds nothing to annotate.
    if (inner.meta === undefined) return { json: { id: tracked.id, data: inner.json } };
  }
  return superjson.serialize(value);
}

/** superjson on the wire both ways (clients use plain superjson); fanned-out events serialized once. */
export const serverTransformer = {
  input: superjson,
  output: { serialize: serializeOutput, deserialize: (value: Serialized) => superjson.deserialize(value) },
};
