import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { MessagingStatus } from "~/features/ops/status";
import { createDatabase, type Database } from "~/server/db/client";
import { createNodeTrpcClient, type NodeTrpcClient } from "~/trpc/node-client";
import { collectEvents } from "../helpers/event-collector";
import { startInstanceProcess, type InstanceProcess } from "../helpers/instance-process";
import { createTestDatabase, type TestDatabase } from "../helpers/test-database";
import { TEST_APP_ORIGIN, TEST_AUTH_SECRET } from "../helpers/test-server";

// /api/messaging/status across two server processes on one PostgreSQL and Redis:
// each instance's numbers from its heartbeat, and users counted once in the total.

const hasServices = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

describe.runIf(hasServices)("messaging status of two instances", () => {
  let database: TestDatabase;
  let db: Database;
  let dataDir: string;
  let a: InstanceProcess;
  let b: InstanceProcess;
  const clients: NodeTrpcClient[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), "chatline-status-"));
    const env = {
      DATABASE_URL: database.connectionString,
      REDIS_URL: process.env.REDIS_URL!,
      NEXTAUTH_SECRET: TEST_AUTH_SECRET,
      APP_URL: TEST_APP_ORIGIN,
      DATA_DIR: dataDir,
      SEED_DEMO_USERS: "false",
      RETENTION_INTERVAL_MS: "0",
      LOG_LEVEL: "warn",
    };
    [a, b] = await Promise.all([startInstanceProcess(env), startInstanceProcess(env)]);
    db = createDatabase(database.connectionString, { poolSize: 2 });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.close();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function signedIn(name: string, baseUrl: string, roleNames = ["User"]) {
    const roles = await db.prisma.role.findMany({ where: { name: { in: roleNames } }, select: { id: true } });
    const user = await db.prisma.user.create({
      data: { name, email: `${name.toLowerCase()}-${Date.now()}@status.example`, roles: { create: roles.map((r) => ({ roleId: r.id })) } },
    });
    const cookie = `next-auth.session-token=${await encode({ token: { sub: user.id }, secret: TEST_AUTH_SECRET, maxAge: 3600 })}`;
    const client = createNodeTrpcClient({ baseUrl, cookie, origin: TEST_APP_ORIGIN });
    clients.push(client);
    return { user, client, api: client.api, cookie };
  }

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
    clients.push(anaSecond);
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
});
