import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTRPCClient, wsLink } from "@trpc/client";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDatabase, type Database } from "~/server/db/client";
import type { AppRouter } from "~/server/trpc/root";
import { createNodeTrpcClient, type NodeTrpcClient } from "~/trpc/node-client";
import { collectEvents } from "../helpers/event-collector";
import {
  cookieFor,
  hasSharedServices,
  instanceEnv,
  signedInUser,
  startInstancePair,
  withInstancePair,
  type InstancePair,
} from "../helpers/instance-pair";
import { startInstanceProcess, type InstanceProcess } from "../helpers/instance-process";
import { createTestDatabase } from "../helpers/test-database";
import { TEST_APP_ORIGIN } from "../helpers/test-server";

// Two server processes on one PostgreSQL and one Redis, with no sticky sessions
// (tests/helpers/instance-pair.ts): what a scaled-out deployment is.

describe.runIf(hasSharedServices)("two instances", () => {
  let pair: InstancePair;
  let a: InstanceProcess;
  let b: InstanceProcess;
  let db: Database;

  beforeAll(async () => {
    pair = await startInstancePair("multi");
    ({ a, b, db } = pair);
  }, 120_000);

  afterAll(async () => {
    await pair?.close();
  });

  const signedIn = (name: string, baseUrl: string | (() => string)) => pair.signedIn(name, baseUrl);

  it("deliver each other's messages, typing and presence, and lose nothing when one is killed mid-stream", async () => {
    const ana = await signedIn("Ana", a.url);
    // Ben's "load balancer" sends him to B while it lives, then to A.
    let bAlive = true;
    const ben = await signedIn("Ben", () => (bAlive ? b.url : a.url));
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });

    // Presence is ephemeral (a client asks presence.get for the state when it
    // connects), so Ana listens before Ben comes online.
    const anaEvents = collectEvents(ana.client);
    await anaEvents.ready();
    const benEvents = collectEvents(ben.client);
    await benEvents.ready();
    expect(anaEvents.ofType("ready")[0]?.instanceId).not.toBe(benEvents.ofType("ready")[0]?.instanceId);

    // Presence and typing cross instances.
    await vi.waitFor(() => expect(anaEvents.ofType("presence").some((e) => e.userId === ben.user.id && e.status === "online")).toBe(true));
    await ben.api.messages.typing.mutate({ conversationId: conversation.id, isTyping: true });
    await vi.waitFor(() => expect(anaEvents.ofType("typing")).toHaveLength(1));

    // Ana sends 60 messages; B is killed after the 20th.
    for (let i = 1; i <= 60; i++) {
      await ana.api.messages.send.mutate({ conversationId: conversation.id, content: `m${i}`, clientMessageId: `multi-${i}` });
      if (i === 20) {
        await vi.waitFor(() => expect(benEvents.ofType("message.created").length).toBeGreaterThanOrEqual(10));
        bAlive = false;
        await b.kill();
      }
    }
    await vi.waitFor(() => expect(benEvents.ofType("message.created")).toHaveLength(60), { timeout: 20_000 });
    // Let anything late or duplicated show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const seqs = benEvents.ofType("message.created").map((e) => e.message.seq);
    expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    // The client reconnected to A and resumed by cursor.
    const readies = benEvents.ofType("ready");
    expect(readies.length).toBeGreaterThanOrEqual(2);
    expect(readies[readies.length - 1]?.instanceId).toBe(anaEvents.ofType("ready")[0]?.instanceId);
    expect(await db.prisma.message.count({ where: { conversationId: conversation.id } })).toBe(60);
    anaEvents.stop();
    benEvents.stop();
  }, 90_000);
});

describe.runIf(hasSharedServices)("a settings change on two instances", () => {
  it("made on A reaches a subscriber on B, and B's sends follow it at once, not when its cache expires", () =>
    withInstancePair("settings", async ({ a, b, signedIn }) => {
      const admin = await signedIn("Admin", a.url, ["User", "Admin"]);
      const ben = await signedIn("Ben", b.url);
      const carl = await signedIn("Carl", b.url);
      const conversation = await ben.api.conversations.createDirect.mutate({ recipientId: carl.user.id });
      const benEvents = collectEvents(ben.client);
      await benEvents.ready();

      // B caches the limits (5 s) on this send; everything below happens well within that.
      await ben.api.messages.send.mutate({ conversationId: conversation.id, content: "x".repeat(300), clientMessageId: "warm" });
      const cachedAt = Date.now();

      const lowered = await admin.api.settings.update.mutate({ maxMessageLength: 200 });
      expect(lowered.maxMessageLength).toBe(200);
      await vi.waitFor(() => expect(benEvents.ofType("settings.updated")).toHaveLength(1), { timeout: 3_000 });
      expect(benEvents.ofType("settings.updated")[0]?.settings).toMatchObject({ maxMessageLength: 200, enabled: true });
      const refused = await ben.api.messages.send
        .mutate({ conversationId: conversation.id, content: "x".repeat(300), clientMessageId: "too-long" })
        .then(
          () => null,
          (error: { data?: { code?: string }; message: string }) => ({ code: error.data?.code, message: error.message }),
        );
      expect(refused).toEqual({ code: "BAD_REQUEST", message: "Messages are at most 200 characters." });
      expect(await ben.api.settings.public.query()).toMatchObject({ maxMessageLength: 200 });

      // Raised again: B lets a long message through as soon as its subscriber hears of it.
      await admin.api.settings.update.mutate({ maxMessageLength: 5000 });
      await vi.waitFor(() => expect(benEvents.ofType("settings.updated")).toHaveLength(2), { timeout: 3_000 });
      await ben.api.messages.send.mutate({ conversationId: conversation.id, content: "x".repeat(4000), clientMessageId: "long" });
      // The cache B filled at the start has not expired: the notice did this, not the expiry.
      expect(Date.now() - cachedAt).toBeLessThan(5_000);
      expect(benEvents.ofType("settings.updated").map((e) => e.settings.maxMessageLength)).toEqual([200, 5000]);
      benEvents.stop();
    }),
  90_000);
});

describe.runIf(hasSharedServices)("a role change on two instances", () => {
  it("made on A takes roles:manage from a Super Admin's open WebSocket on B at its next call", () =>
    withInstancePair("roles", async ({ a, b, db, signedIn }) => {
      const sam = await signedIn("Sam", a.url, ["User", "Super Admin"]);
      const sue = await signedIn("Sue", b.url, ["User", "Super Admin"]);
      // Every call of Sue's goes over her one socket to B, which keeps the user it loaded.
      const overSocket = createTRPCClient<AppRouter>({ links: [wsLink({ client: sue.client.wsClient, transformer: superjson })] });
      expect((await overSocket.roles.list.query()).roles.length).toBeGreaterThan(0);

      const userRole = await db.prisma.role.findUniqueOrThrow({ where: { name: "User" }, select: { id: true } });
      await sam.api.roles.setUserRoles.mutate({ userId: sue.user.id, roleIds: [userRole.id] });
      await vi.waitFor(
        async () => {
          const outcome = await overSocket.roles.list.query().then(
            () => "allowed",
            (error: { data?: { code?: string } }) => error.data?.code,
          );
          expect(outcome).toBe("FORBIDDEN");
        },
        { timeout: 5_000, interval: 100 },
      );
      // Still a user: messaging goes on over the same socket.
      expect(await overSocket.conversations.list.query({})).toBeDefined();
    }),
  90_000);

  it("made on A ends an event stream on B that lost messaging:access, well before its minute's re-check", () =>
    withInstancePair("roles-stream", async ({ a, b, signedIn }) => {
      const sam = await signedIn("Sam", a.url, ["User", "Super Admin"]);
      const max = await signedIn("Max", b.url);
      const events = collectEvents(max.client);
      await events.ready();
      // The instances re-check open streams every 60 s (SOCKET_SESSION_CHECK_MS, default): this must not wait for it.
      await sam.api.roles.setUserRoles.mutate({ userId: max.user.id, roleIds: [] });
      await vi.waitFor(() => expect(events.errors).toHaveLength(1), { timeout: 8_000, interval: 100 });
      expect((events.errors[0] as { data?: { code?: string } }).data?.code).toBe("UNAUTHORIZED");
    }),
  90_000);
});

describe.runIf(hasSharedServices)("the send limit on two instances", () => {
  it("is one count in Redis: sends through A and B add up, and both refuse past it with when to retry", () =>
    withInstancePair("limits", async ({ a, b, db, clients, signedIn }) => {
      const admin = await signedIn("Admin", a.url, ["User", "Admin"]);
      const onA = await signedIn("Sender", a.url);
      // The same person through the other instance.
      const onB = createNodeTrpcClient({ baseUrl: b.url, cookie: await cookieFor(onA.user.id), origin: TEST_APP_ORIGIN });
      clients.push(onB);
      const reader = await signedIn("Reader", b.url);
      const conversation = await onA.api.conversations.createDirect.mutate({ recipientId: reader.user.id });

      // Made on A; B reads it on its first send (how a change reaches a warm cache: "a settings change" above).
      await admin.api.settings.update.mutate({ rateLimitPerMinute: 3 });
      const send = (api: typeof onA.api, id: string) =>
        api.messages.send.mutate({ conversationId: conversation.id, content: id, clientMessageId: id });
      await send(onA.api, "1");
      await send(onB.api, "2");
      await send(onA.api, "3");
      for (const [api, id] of [[onB.api, "4"], [onA.api, "5"]] as const) {
        const refused = await send(api, id).then(
          () => null,
          (error: { message: string; data?: { code?: string; retryAfterMs?: number | null } }) => error,
        );
        expect(refused?.data?.code).toBe("TOO_MANY_REQUESTS");
        expect(refused?.data?.retryAfterMs).toBeGreaterThan(0);
        expect(refused?.message).toMatch(/^You are sending messages too fast\. Try again in \d+ s\.$/);
      }
      expect(await db.prisma.message.count({ where: { conversationId: conversation.id, type: "TEXT" } })).toBe(3);
    }),
  90_000);
});

describe.runIf(hasSharedServices)("two installations sharing one Redis", () => {
  it("never hear each other's events, though their event ids collide", async () => {
    const databases = await Promise.all([createTestDatabase(), createTestDatabase()]);
    const dataDir = await mkdtemp(path.join(tmpdir(), "chatline-installations-"));
    const instances = await Promise.all(
      databases.map((database) =>
        startInstanceProcess(instanceEnv(database.connectionString, dataDir)),
      ),
    );
    const handles = databases.map((database) => createDatabase(database.connectionString, { poolSize: 2 }));
    const clients: NodeTrpcClient[] = [];
    try {
      const sides = await Promise.all(
        handles.map(async (handle, index) => {
          const make = async (name: string) => {
            const person = await signedInUser(handle, name, instances[index]!.url);
            clients.push(person.client);
            return person;
          };
          return { sender: await make("sender"), reader: await make("reader") };
        }),
      );
      const conversations = await Promise.all(
        sides.map((side) => side.sender.client.api.conversations.createDirect.mutate({ recipientId: side.reader.user.id })),
      );
      const streams = sides.map((side) => collectEvents(side.reader.client));
      await Promise.all(streams.map((stream) => stream.ready()));
      // Both installations hand out the same event ids at the same time.
      for (let i = 1; i <= 20; i++) {
        await Promise.all(
          sides.map((side, index) =>
            side.sender.client.api.messages.send.mutate({ conversationId: conversations[index]!.id, content: `install ${index} #${i}`, clientMessageId: `i-${i}` }),
          ),
        );
      }
      for (const [index, stream] of streams.entries()) {
        await vi.waitFor(() => expect(stream.ofType("message.created")).toHaveLength(20));
        expect(stream.ofType("message.created").map((e) => e.message.content)).toEqual(
          Array.from({ length: 20 }, (_, i) => `install ${index} #${i + 1}`),
        );
        stream.stop();
      }
    } finally {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      await Promise.all(instances.map((instance) => instance.stop()));
      await Promise.all(handles.map((handle) => handle.close()));
      await Promise.all(databases.map((database) => database.drop()));
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
