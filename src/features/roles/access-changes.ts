import type { EventBus } from "~/server/realtime/event-bus";

// A WebSocket connection keeps the user it loaded (roles, permissions) for a
// while, so a call does not cost a query. When a Super Admin changes a role's
// permissions or a user's roles, every instance must stop trusting what its
// connections hold: the change is announced on the bus's control channel and
// each instance moves its access generation on; the authed middleware reloads a
// connection's user when the generation it loaded under is no longer current.

/** The bus message that says "roles or permissions changed". */
export const ACCESS_NOTICE = JSON.stringify({ kind: "access.changed" });

const globalForAccess = globalThis as unknown as {
  __chatlineAccessGeneration?: number;
  __chatlineAccessListeners?: Set<() => void>;
};

function listeners(): Set<() => void> {
  globalForAccess.__chatlineAccessListeners ??= new Set();
  return globalForAccess.__chatlineAccessListeners;
}

/**
 * Calls `listener` whenever roles or permissions change (an open event stream
 * re-checks its session then, not only on its timer). Returns the function that stops.
 */
export function onAccessChange(listener: () => void): () => void {
  listeners().add(listener);
  return () => listeners().delete(listener);
}

/** Bumped on every role or permission change seen by this process. */
export function accessGeneration(): number {
  return globalForAccess.__chatlineAccessGeneration ?? 0;
}

function moveAccessGenerationOn(): void {
  globalForAccess.__chatlineAccessGeneration = accessGeneration() + 1;
  for (const listener of listeners()) listener();
}

/**
 * Tells every instance that roles or permissions changed. This instance moves on
 * at once (its next call reloads), not only when its own notice comes back.
 */
export async function announceAccessChange(bus: Pick<EventBus, "publish">): Promise<void> {
  moveAccessGenerationOn();
  await bus.publish("control", ACCESS_NOTICE);
}

/** Follows other instances' announcements; returns the function that stops. */
export function followAccessChanges(bus: Pick<EventBus, "subscribe">): () => void {
  return bus.subscribe("control", (message) => {
    if (message === ACCESS_NOTICE) moveAccessGenerationOn();
  });
}
