import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RETENTION_LOCK_KEY, runRetention, scheduleRetention } from "~/features/ops/retention";
import type { MessagingStatus } from "~/features/ops/status";
import { collectEvents } from "../helpers/event-collector";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// Operations: the messaging status, Prometheus metrics, message retention and
// data export, against the real server, database and (when set) Redis.

let t: TestServer;

beforeAll(async () => {
  // No retention run of its own in the background: the tests call it.
  t = await startTestServer({ RETENTION_INTERVAL_MS: "0" });
});
afterAll(async () => {
  await t?.close();
});

async function person(name: string, roles: ("User" | "Admin")[] = ["User"]) {
  const user = await t.createUser({ name, roles });
  const client = await t.client({ userId: user.id, origin: TEST_APP_ORIGIN });
  return { user, client, api: client.api, cookie: await t.sessionCookie(user.id) };
}

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${t.baseUrl}${path}`, { headers });
  const text = await response.text();
  return { response, text, json: () => JSON.parse(text) as unknown };
}

describe("GET /api/messaging/status and admin.status", () => {
  it("counts sockets, subscribers, online and typing users and active conversations", async () => {
    const admin = await person("Status Admin", ["User", "Admin"]);
    const ana = await person("Status Ana");
    const ben = await person("Status Ben");
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });

    const before = (await get("/api/messaging/status", { cookie: admin.cookie })).json() as MessagingStatus;
    expect(before.total.onlineUsers).toBe(0);

    const anaEvents = collectEvents(ana.client);
    const benEvents = collectEvents(ben.client);
    // Ben on a second device: one more socket and subscriber, still one user.
    const benPhone = await t.client({ userId: ben.user.id, origin: TEST_APP_ORIGIN });
    const benPhoneEvents = collectEvents(benPhone);
    await Promise.all([anaEvents.ready(), benEvents.ready(), benPhoneEvents.ready()]);

    await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "status?", clientMessageId: "status-1" });
    await ben.api.messages.typing.mutate({ conversationId: conversation.id, isTyping: true });

    const { response, json } = await get("/api/messaging/status", { cookie: admin.cookie });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const status = json() as MessagingStatus;
    expect(status.source).toBe(process.env.REDIS_URL ? "redis" : "process");
    expect(status.complete).toBe(true);
    // Every open WebSocket counts (a client's socket may carry no subscription); subscribers are event streams.
    const sockets = t.server.wss.clients.size;
    expect(sockets).toBeGreaterThanOrEqual(3);
    expect(status.total).toMatchObject({ instances: 1, sockets, subscribers: 3, onlineUsers: 2, typingUsers: 1, activeConversations: 1 });
    expect(status.instances).toHaveLength(1);
    expect(status.instances[0]).toMatchObject({ sockets, subscribers: 3, onlineUsers: 2, typingUsers: 1, activeConversations: 1 });

    // The same report over tRPC, for the admin page.
    const viaTrpc = await admin.api.admin.status.query();
    expect(viaTrpc.total).toEqual(status.total);

    // Typing stops; Ben's phone goes away.
    await ben.api.messages.typing.mutate({ conversationId: conversation.id, isTyping: false });
    benPhoneEvents.stop();
    await benPhone.close();
    await vi.waitFor(async () => {
      const after = (await get("/api/messaging/status", { cookie: admin.cookie })).json() as MessagingStatus;
      expect(after.total).toMatchObject({ sockets: sockets - 1, subscribers: 2, onlineUsers: 2, typingUsers: 0, activeConversations: 1 });
    });
    anaEvents.stop();
    benEvents.stop();
  });

  it("needs a session with messaging:admin", async () => {
    const user = await person("Status Nosy");
    expect((await get("/api/messaging/status")).response.status).toBe(401);
    expect((await get("/api/messaging/status", { cookie: "next-auth.session-token=forged" })).response.status).toBe(401);
    expect((await get("/api/messaging/status", { cookie: user.cookie })).response.status).toBe(403);
    await expect(user.api.admin.status.query()).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
    const post = await fetch(`${t.baseUrl}/api/messaging/status`, { method: "POST" });
    expect(post.status).toBe(405);
  });

  it.runIf(Boolean(process.env.REDIS_URL))("sums the heartbeats other instances left in Redis", async () => {
    const admin = await person("Status Admin 2", ["User", "Admin"]);
    const { getRedis } = await import("~/server/redis");
    const { getRealtime } = await import("~/server/realtime");
    const key = `${getRealtime().channelPrefix}status:other-instance`;
    const other = {
      instanceId: "other-instance",
      reportedAt: new Date().toISOString(),
      sockets: 4,
      subscribers: 4,
      onlineUsers: 2,
      typingUsers: 1,
      activeConversations: 1,
      onlineUserIds: ["u-elsewhere-1", "u-elsewhere-2"],
      typingUserIds: ["u-elsewhere-1"],
      activeConversationIds: ["c-elsewhere"],
    };
    await getRedis()!.set(key, JSON.stringify(other), "PX", 10_000);
    try {
      const status = await admin.api.admin.status.query();
      expect(status.total.instances).toBe(2);
      expect(status.instances.map((i) => i.instanceId)).toContain("other-instance");
      const mine = status.instances.find((i) => i.instanceId !== "other-instance")!;
      expect(status.total.sockets).toBe(mine.sockets + 4);
      expect(status.total.onlineUsers).toBe(mine.onlineUsers + 2);
      expect(status.total.activeConversations).toBe(mine.activeConversations + 1);
    } finally {
      await getRedis()!.del(key);
    }
  });
});

describe("GET /api/metrics", () => {
  it("counts sends, deliveries, connections and the send-to-deliver latency", async () => {
    const ana = await person("Metrics Ana");
    const ben = await person("Metrics Ben");
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const sentBefore = metricValue((await get("/api/metrics")).text, "chatline_messages_sent_total");
    const benEvents = collectEvents(ben.client);
    await benEvents.ready();
    await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "measured", clientMessageId: "metrics-1" });
    // A retry of the same send stores nothing and counts nothing.
    await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "measured", clientMessageId: "metrics-1" });
    await vi.waitFor(() => expect(benEvents.ofType("message.created")).toHaveLength(1));

    await vi.waitFor(async () => {
      const { response, text } = await get("/api/metrics");
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(metricValue(text, "chatline_messages_sent_total")).toBe(sentBefore + 1);
      expect(metricValue(text, 'chatline_message_deliveries_total{source="live"}')).toBeGreaterThanOrEqual(1);
      expect(metricValue(text, "chatline_message_delivery_latency_seconds_count")).toBeGreaterThanOrEqual(1);
      expect(metricValue(text, "chatline_websocket_connections")).toBeGreaterThanOrEqual(1);
      expect(text).toContain("process_cpu_user_seconds_total");
      expect(text).toContain("nodejs_eventloop_lag_seconds");
    });
    benEvents.stop();
  });

  it("without METRICS_TOKEN answers loopback callers only, never through a proxy", async () => {
    const relayed = await get("/api/metrics", { "x-forwarded-for": "127.0.0.1" });
    expect(relayed.response.status).toBe(403);
  });
});

function metricValue(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

describe("retention", () => {
  const DAY = 24 * 60 * 60 * 1000;

  async function backdate(messageIds: string[], days: number) {
    const prisma = t.server.database.prisma;
    const at = new Date(Date.now() - days * DAY);
    await prisma.message.updateMany({ where: { id: { in: messageIds } }, data: { createdAt: at } });
    await prisma.event.updateMany({ where: { messageId: { in: messageIds }, type: "message.created" }, data: { createdAt: at } });
  }

  it("deletes exactly the messages older than the retention period, with their reactions, events and receipts", async () => {
    const prisma = t.server.database.prisma;
    const admin = await person("Retention Admin", ["User", "Admin"]);
    const ana = await person("Retention Ana");
    const ben = await person("Retention Ben");
    const mixed = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const allOld = await ana.api.conversations.createGroup.mutate({ name: "Old times", participantIds: [ben.user.id] });
    const send = (conversationId: string, content: string) =>
      ana.api.messages.send.mutate({ conversationId, content, clientMessageId: `ret-${content.replace(/\W/g, "_")}` });

    const old1 = await send(mixed.id, "old one");
    const old2 = await send(mixed.id, "old two");
    const old3 = await send(mixed.id, "old three");
    const fresh1 = await send(mixed.id, "fresh one");
    const fresh2 = await send(mixed.id, "fresh two");
    const groupOld = await send(allOld.id, "group old");
    await ben.api.messages.react.mutate({ messageId: old1.id, emoji: "👍" });
    await ben.api.messages.react.mutate({ messageId: fresh1.id, emoji: "🎉" });
    // Ben read up to old2 (a receipt no remaining message needs), then everything.
    await ben.api.conversations.markAsRead.mutate({ conversationId: mixed.id, upToSeq: old2.seq });
    await ben.api.conversations.markAsRead.mutate({ conversationId: mixed.id, upToSeq: fresh2.seq });
    // The group's system message ("created") is as old as the conversation: backdate every message there.
    const groupMessages = await prisma.message.findMany({ where: { conversationId: allOld.id }, select: { id: true } });
    const oldIds = [old1.id, old2.id, old3.id, ...groupMessages.map((m) => m.id)];
    await backdate(oldIds, 100);
    // Just inside the retention period: stays.
    await backdate([fresh1.id], 80);

    const messagesBefore = await prisma.message.count();
    const preview = await admin.api.admin.retentionPreview.query();
    expect(preview).toMatchObject({ retentionDays: 90, messages: oldIds.length });
    await expect(ana.api.admin.retentionPreview.query()).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });

    const result = await runRetention(prisma, { batchSize: 2 });
    expect(result).toMatchObject({ ran: true, deletedMessages: oldIds.length, retentionDays: 90 });
    expect(result.batches).toBe(Math.ceil(oldIds.length / 2));

    expect(await prisma.message.count()).toBe(messagesBefore - oldIds.length);
    expect(await prisma.message.count({ where: { id: { in: oldIds } } })).toBe(0);
    expect((await prisma.message.findMany({ where: { conversationId: mixed.id }, select: { id: true } })).map((m) => m.id).sort()).toEqual(
      [fresh1.id, fresh2.id].sort(),
    );
    expect(await prisma.reaction.count({ where: { messageId: old1.id } })).toBe(0);
    expect(await prisma.reaction.count({ where: { messageId: fresh1.id } })).toBe(1);
    // Old events about the deleted messages are gone; the reaction event (recent) stays, without content.
    expect(await prisma.event.count({ where: { messageId: { in: oldIds }, type: "message.created" } })).toBe(0);
    const laterEvents = await prisma.event.findMany({ where: { messageId: old1.id }, select: { payload: true } });
    expect(laterEvents.length).toBeGreaterThan(0);
    for (const event of laterEvents) expect(JSON.stringify(event.payload)).not.toContain("old one");
    // Receipts: the one up to old2 answers for no remaining message; the one up to fresh2 stays.
    const receipts = await prisma.messageReceipt.findMany({ where: { conversationId: mixed.id, userId: ben.user.id, kind: "READ" } });
    expect(receipts.map((r) => r.upToSeq)).toEqual([fresh2.seq]);
    // Previews: the newest message of `mixed` stays; `allOld` has none left.
    const [mixedAfter, oldAfter] = await Promise.all(
      [mixed.id, allOld.id].map((id) => prisma.conversation.findUniqueOrThrow({ where: { id } })),
    );
    expect(mixedAfter!.lastMessagePreview).toBe("fresh two");
    expect(oldAfter).toMatchObject({ lastMessagePreview: null, lastMessageSenderId: null });
    expect(groupOld.id).toBeDefined();
    // The app still reads both conversations.
    expect((await ben.api.messages.list.query({ conversationId: mixed.id, limit: 50 })).items.map((m) => m.content)).toEqual([
      "fresh one",
      "fresh two",
    ]);
    expect((await ben.api.messages.list.query({ conversationId: allOld.id, limit: 50 })).items).toEqual([]);
    expect((await admin.api.admin.retentionPreview.query()).messages).toBe(0);
    // A second run finds nothing.
    expect(await runRetention(prisma)).toMatchObject({ ran: true, deletedMessages: 0 });
  });

  it.runIf(Boolean(process.env.DATABASE_URL))("stops when another instance holds the lock", async () => {
    const prisma = t.server.database.prisma;
    const ana = await person("Lock Ana");
    const ben = await person("Lock Ben");
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const old = await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "locked out", clientMessageId: "lock-1" });
    await backdate([old.id], 200);
    const other = new pg.Client({ connectionString: t.database.connectionString });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query("SELECT pg_advisory_xact_lock($1)", [RETENTION_LOCK_KEY.toString()]);
      expect(await runRetention(prisma)).toMatchObject({ ran: false, deletedMessages: 0 });
      expect(await prisma.message.count({ where: { id: old.id } })).toBe(1);
      await other.query("ROLLBACK");
      expect(await runRetention(prisma)).toMatchObject({ ran: true, deletedMessages: 1 });
    } finally {
      await other.end();
    }
  });

  it("admin.retentionPreview shows this instance's schedule: none when off, then the next and the last run", async () => {
    const admin = await person("Schedule Admin", ["User", "Admin"]);
    const ana = await person("Schedule Ana");
    const ben = await person("Schedule Ben");
    // This server runs with RETENTION_INTERVAL_MS=0.
    expect((await admin.api.admin.retentionPreview.query()).schedule).toBeNull();

    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const old = await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "scheduled away", clientMessageId: "sched-1" });
    await backdate([old.id], 120);
    const { logger } = await import("~/server/logger");
    const before = Date.now();
    const schedule = scheduleRetention({ prisma: t.server.database.prisma, log: logger, intervalMs: 3_600_000, firstRunMs: 50 });
    try {
      const pending = (await admin.api.admin.retentionPreview.query()).schedule;
      expect(pending).toMatchObject({ intervalMs: 3_600_000, lastRun: null });
      expect(pending!.nextRunAt.getTime()).toBeGreaterThanOrEqual(before);
      await vi.waitFor(async () => {
        const { schedule: after, messages } = await admin.api.admin.retentionPreview.query();
        expect(after?.lastRun).toMatchObject({ ran: true, failed: false });
        expect(after!.lastRun!.deletedMessages).toBeGreaterThanOrEqual(1);
        expect(after!.lastRun!.finishedAt.getTime()).toBeGreaterThanOrEqual(after!.lastRun!.startedAt.getTime());
        // The next run: an interval after this one started.
        expect(after!.nextRunAt.getTime()).toBeGreaterThanOrEqual(after!.lastRun!.startedAt.getTime() + 3_600_000 - 1000);
        expect(messages).toBe(0);
      });
      expect(await t.server.database.prisma.message.count({ where: { id: old.id } })).toBe(0);
    } finally {
      await schedule.stop();
    }
    expect((await admin.api.admin.retentionPreview.query()).schedule).toBeNull();
  });
});

describe("data export", () => {
  it("export.mine has the caller's conversations and the messages sent while they were a member", async () => {
    const ana = await person("Export Ana");
    const ben = await person("Export Ben");
    const cleo = await person("Export Cleo");
    const group = await ana.api.conversations.createGroup.mutate({ name: "Exported", participantIds: [ben.user.id] });
    const send = (who: typeof ana, content: string) =>
      who.api.messages.send.mutate({ conversationId: group.id, content, clientMessageId: `exp-${content.replace(/\W/g, "_")}` });
    await send(ana, "before cleo");
    await ana.api.conversations.addParticipants.mutate({ conversationId: group.id, userIds: [cleo.user.id] });
    await send(ana, "with cleo");
    const cleosOwn = await send(cleo, "cleo says hi");
    await ben.api.messages.react.mutate({ messageId: cleosOwn.id, emoji: "👋" });
    const deleted = await send(ben, "regrettable");
    await ben.api.messages.delete.mutate({ messageId: deleted.id });
    await ana.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: cleo.user.id });
    await send(ana, "after cleo");

    const mine = await cleo.api.export.mine.query();
    expect(mine.user).toMatchObject({ id: cleo.user.id, email: cleo.user.email });
    expect(mine.conversations).toHaveLength(1);
    const exported = mine.conversations[0]!;
    expect(exported).toMatchObject({ id: group.id, type: "GROUP", name: "Exported" });
    expect(exported.membership.leftAt).toBeInstanceOf(Date);
    expect(exported.participants.map((p) => p.id).sort()).toEqual([ana.user.id, ben.user.id, cleo.user.id].sort());
    const texts = exported.messages.filter((m) => m.type === "TEXT");
    expect(texts.map((m) => m.content)).toEqual(["with cleo", "cleo says hi", null]);
    expect(texts[1]!.reactions).toEqual([{ emoji: "👋", userId: ben.user.id }]);
    expect(texts[2]!.deletedAt).toBeInstanceOf(Date);

    const bens = await ben.api.export.mine.query();
    expect(bens.conversations[0]!.messages.filter((m) => m.type === "TEXT").map((m) => m.content)).toEqual([
      "before cleo",
      "with cleo",
      "cleo says hi",
      null,
      "after cleo",
    ]);
    // Someone in no conversation gets an empty list, not an error.
    const loner = await person("Export Loner");
    expect((await loner.api.export.mine.query()).conversations).toEqual([]);
  });

  it("export.user is for messaging:admin and is audited; GET /api/export downloads your own", async () => {
    const admin = await person("Export Admin", ["User", "Admin"]);
    const ana = await person("Export Ana 2");
    const ben = await person("Export Ben 2");
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "for the record", clientMessageId: "exp2-1" });

    await ben.api.messages.send.mutate({ conversationId: conversation.id, content: "private reply", clientMessageId: "exp2-2" });

    await expect(ben.api.export.user.mutate({ userId: ana.user.id })).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
    const byAdmin = await admin.api.export.user.mutate({ userId: ana.user.id });
    expect(byAdmin.user.id).toBe(ana.user.id);
    // Ana's own words only: an admin export is no way to read Ben's side of a private conversation.
    expect(byAdmin.conversations[0]!.messages.map((m) => m.content)).toEqual(["for the record"]);
    const audit = await t.server.database.prisma.auditLog.findFirst({ where: { action: "user.exported", targetId: ana.user.id } });
    expect(audit).toMatchObject({ actorId: admin.user.id, targetType: "user" });
    await expect(admin.api.export.user.mutate({ userId: "00000000-0000-4000-8000-000000000000" })).rejects.toMatchObject({
      data: { code: "NOT_FOUND" },
    });

    const download = await get("/api/export", { cookie: ben.cookie });
    expect(download.response.status).toBe(200);
    expect(download.response.headers.get("content-disposition")).toMatch(/^attachment; filename="chatline-export-\d{4}-\d{2}-\d{2}\.json"$/);
    const file = download.json() as { format: string; user: { id: string }; conversations: { messages: { content: string }[] }[] };
    expect(file.format).toBe("chatline-export/1");
    expect(file.user.id).toBe(ben.user.id);
    expect(file.conversations[0]!.messages.map((m) => m.content)).toEqual(["for the record", "private reply"]);
    expect((await get("/api/export")).response.status).toBe(401);
  });
});
