import superjson from "superjson";

// One durable event goes to every member's socket, and tRPC serializes each
// subscription's output on its own: a message to a group of 100 would be walked
// by superjson 100 times. The dispatcher freezes events before handing them out
// (src/server/realtime/fan-out.ts), so a frozen value's serialized form is computed
// once and shared by every socket it goes to. Anything not frozen is serialized as usual.

type Serialized = ReturnType<typeof superjson.serialize>;

const serializedOnce = new WeakMap<object, Serialized>();

function serializeOutput(value: unknown): Serialized {
  if (value === null || typeof value !== "object" || !Object.isFrozen(value)) return superjson.serialize(value);
  let serialized = serializedOnce.get(value);
  if (!serialized) {
    serialized = superjson.serialize(value);
    serializedOnce.set(value, serialized);
  }
  return serialized;
}

/** superjson on the wire both ways (clients use plain superjson); outputs shared when frozen. */
export const serverTransformer = {
  input: superjson,
  output: { serialize: serializeOutput, deserialize: (value: Serialized) => superjson.deserialize(value) },
};
