// An event the dispatcher hands out reaches every subscriber that may see it as
// the same object. It is frozen first: no listener can change what the others
// receive, and the tRPC transformer (src/server/trpc/transformer.ts) may
// serialize it once for every socket it goes to. Only values frozen here are
// shared that way: an object frozen elsewhere may be frozen only on the surface.

const sharedForFanOut = new WeakSet<object>();

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || sharedForFanOut.has(value)) return;
  Object.freeze(value);
  sharedForFanOut.add(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

export function freezeForFanOut<T>(value: T): T {
  deepFreeze(value);
  return value;
}

/** Whether `value` was deeply frozen by freezeForFanOut, so its serialization may be shared. */
export function isSharedForFanOut(value: object): boolean {
  return sharedForFanOut.has(value);
}
