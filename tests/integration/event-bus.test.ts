import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { RedisEventBus, type BusChannel } from "~/server/realtime/event-bus";

// The Redis bus keeps the subscriptions a process makes while its connection is
// still being established (the dispatcher's, the settings follower's, at start).

const redisUrl = process.env.REDIS_URL;

describe.runIf(redisUrl)("the Redis event bus", () => {
  it("hears every channel subscribed at once, while it is still connecting", async () => {
    const channels: BusChannel[] = ["events", "control", "ephemeral"];
    // The race this guards against lost subscriptions about one start in five.
    const buses = Array.from({ length: 25 }, () => new RedisEventBus(redisUrl!, `chatline-bus-test:${randomUUID()}:`));
    try {
      const heard = buses.map(() => new Set<string>());
      for (const [index, bus] of buses.entries()) {
        bus.subscribe("events", (message) => heard[index]!.add(message));
        // A few milliseconds later, as the app's next subscriber does.
        await new Promise((resolve) => setTimeout(resolve, index % 5));
        bus.subscribe("control", (message) => heard[index]!.add(message));
        bus.subscribe("ephemeral", (message) => heard[index]!.add(message));
      }
      await vi.waitFor(
        async () => {
          await Promise.all(buses.flatMap((bus) => channels.map((channel) => bus.publish(channel, channel).catch(() => undefined))));
          for (const set of heard) expect([...set].sort()).toEqual([...channels].sort());
        },
        { timeout: 5_000, interval: 200 },
      );
    } finally {
      await Promise.all(buses.map((bus) => bus.close()));
    }
  });
});
