// An event the dispatcher hands out reaches every subscriber that may see it as
// the same object. It is frozen first: no listener can change what the others
// receive, and the tRPC transformer (src/server/trpc/transformer.ts) may
// serialize a frozen value once for every socket it goes to.

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

export function freezeForFanOut<T>(value: T): T {
  deepFreeze(value);
  return value;
}
