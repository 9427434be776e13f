import { getRealtime } from "~/server/realtime";
import { EventHub } from "./event-hub";

// The process's one hub, created with the real-time module it listens to.

const globalForHub = globalThis as unknown as { __chatlineEventHub?: { hub: EventHub; realtime: unknown } };

export function getEventHub(): EventHub {
  const realtime = getRealtime();
  const current = globalForHub.__chatlineEventHub;
  if (current && current.realtime === realtime) return current.hub;
  current?.hub.close();
  const hub = new EventHub(realtime.dispatcher, realtime.bus);
  globalForHub.__chatlineEventHub = { hub, realtime };
  return hub;
}
