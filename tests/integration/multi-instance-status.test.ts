import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { STATUS_HEARTBEAT_MS, STATUS_MISSED_BEATS, statusRegistryKey, type MessagingStatus } from "~/features/ops/status";
import type { Database } from "~/server/db/client";
import { installationId } from "~/server/realtime/event-store";
import { createNodeTrpcClient } from "~/trpc/node-client";
import { collectEvents } from "../helpers/event-collector";
import { hasSharedServices, startInstancePair, type InstancePair } from "../helpers/instance-pair";
import type { InstanceProcess } from "../helpers/instance-process";
import { TEST_APP_ORIGIN } from "../helpers/test-server";

// /api/messaging/status across two server processes on one PostgreSQL and Redis:
// each instance's numbers from its heartbeat (one registry hash per installation),
// users counted once in the total, and entries of vanished instances dropped.

describe.runIf(hasSharedServices)("messaging status of two instances", () => {
  let pair: InstancePair;
  let a: InstanceProcess;
  let b: InstanceProcess;
  let db: Database;

  beforeAll(async () => {
    pair = await startInstancePair("status");
    ({ a, b, db } = pair);
  }, 120_000);

  afterAll(async () => {
    await pair?.close();
  });

  const signedIn = (name: string, baseUrl: string, roles?: string[]) => pair.signedIn(name, baseUrl, roles);

  async function status(url: string, cookie: string): Promise<MessagingStatus> {
    const response = await fetch(`${url}/api/messaging/status`, { headers: { cookie } });
    expect(response.status).toBe(200);
    return (await response.json()) as MessagingStatus;
  }

  it("reports each instance and the total, counting a user on both instances once", async () => {
    const admin = await signedIn("Admin", a.url, ["User", "Admin"]);
    const ana = await signedIn("Ana", a.url);
    const ben = await signedIn("Ben", b.url);
    // Ana on a second device, connected to B.
    const anaSecond = createNodeTrpcClient({ baseUrl: b.url, cookie: ana.cookie, origin: TEST_APP_ORIGIN });
    pair.clients.push(anaSecond);
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const streams = [collectEvents(ana.client), collectEvents(ben.client), collectEvents(anaSecond)];
    await Promise.all(streams.map((s) => s.ready()));
    await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "hello from A", clientMessageId: "st-1" });
    await ben.api.messages.typing.mutate({ conversationId: conversation.id, isTyping: true });

    // Each side's heartbeat reaches Redis within a beat (5 s).
    await vi.waitFor(
      async () => {
        const report = await status(a.url, admin.cookie);
        expect(report.total.instances).toBe(2);
        const bySubscribers = report.instances.map((i) => ({ subscribers: i.subscribers, onlineUsers: i.onlineUsers }));
        // A: Ana (1 stream); B: Ben and Ana's second device (2 streams, 2 users).
        expect(bySubscribers.sort((x, y) => x.subscribers - y.subscribers)).toEqual([
          { subscribers: 1, onlineUsers: 1 },
          { subscribers: 2, onlineUsers: 2 },
        ]);
        expect(report.total).toMatchObject({ subscribers: 3, onlineUsers: 2, typingUsers: 1, activeConversations: 1 });
        expect(report.total.sockets).toBe(report.instances.reduce((sum, i) => sum + i.sockets, 0));
      },
      { timeout: 15_000, interval: 500 },
    );
    // B answers the same totals (A's numbers as of its last beat).
    await vi.waitFor(
      async () => expect((await status(b.url, admin.cookie)).total).toMatchObject({ instances: 2, subscribers: 3, onlineUsers: 2 }),
      { timeout: 15_000, interval: 500 },
    );

    // An instance that stops deletes its heartbeat: the total falls to the one left.
    for (const stream of streams) stream.stop();
    await b.stop();
    await vi.waitFor(async () => {
      const report = await status(a.url, admin.cookie);
      expect(report.total.instances).toBe(1);
      expect(report.total.subscribers).toBe(0);
    });
  }, 60_000);
  it("ignores and removes an entry that missed three beats (an instance killed without cleaning up)", async () => {
    const admin = await signedIn("Stale Admin", a.url, ["User", "Admin"]);
    const key = statusRegistryKey(`chatline:${await installationId(db.prisma)}:`);
    const redis = new Redis(process.env.REDIS_URL!);
    const entry = (id: string, ageMs: number, userIds: string[]) =>
      JSON.stringify({
        instanceId: id,
        reportedAt: new Date(Date.now() - ageMs).toISOString(),
        sockets: 7,
        subscribers: userIds.length,
        onlineUsers: userIds.length,
        typingUsers: 0,
        activeConversations: 0,
        onlineUserIds: userIds,
        typingUserIds: [],
        activeConversationIds: [],
      });
    const staleAge = STATUS_HEARTBEAT_MS * STATUS_MISSED_BEATS + 1_000;
    await b.stop(); // stopped by the case above already; this case needs A alone
    try {
      // A's own entry is there (B removed its own when it stopped).
      await vi.waitFor(async () => expect(await redis.hlen(key)).toBe(1));
      const [own] = await redis.hkeys(key);
      expect(await redis.pttl(key)).toBeGreaterThan(0);
      await redis.hset(key, {
        "killed-instance": entry("killed-instance", staleAge, ["ghost-user"]),
        "live-instance": entry("live-instance", 1_000, ["live-user"]),
        "unreadable-instance": "{not json",
      });

      const report = await status(a.url, admin.cookie);
      expect(report.instances.map((i) => i.instanceId).sort()).toEqual([own!, "live-instance"].sort());
      expect(report.total).toMatchObject({ instances: 2, onlineUsers: 1, subscribers: 1 });
      expect(report.instances.find((i) => i.instanceId === "live-instance")).toMatchObject({ sockets: 7, onlineUsers: 1 });
      // The stale and the unreadable entry are gone from Redis; the live ones stay.
      expect((await redis.hkeys(key)).sort()).toEqual([own!, "live-instance"].sort());
    } finally {
      await redis.hdel(key, "killed-instance", "live-instance", "unreadable-instance");
      redis.disconnect();
    }
  });
});
