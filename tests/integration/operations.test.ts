import { once } from "node:events";
import net from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { userExportSchema, type UserExport } from "~/features/ops/export";
import { RETENTION_LOCK_KEY, runRetention, scheduleRetention } from "~/features/ops/retention";
import type { MessagingStatus } from "~/features/ops/status";
import { configureExportStreams, exportStreamConfig, runningExports } from "~/server/http/ops-routes";
import { configureRateLimits, rateLimitConfig } from "~/server/rate-limits";
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
    const { statusRegistryKey } = await import("~/features/ops/status");
    const key = statusRegistryKey(getRealtime().channelPrefix);
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
    await getRedis()!.hset(key, "other-instance", JSON.stringify(other));
    try {
      const status = await admin.api.admin.status.query();
      expect(status.total.instances).toBe(2);
      expect(status.instances.map((i) => i.instanceId)).toContain("other-instance");
      const mine = status.instances.find((i) => i.instanceId !== "other-instance")!;
      expect(status.total.sockets).toBe(mine.sockets + 4);
      expect(status.total.onlineUsers).toBe(mine.onlineUsers + 2);
      expect(status.total.activeConversations).toBe(mine.activeConversations + 1);
    } finally {
      await getRedis()!.hdel(key, "other-instance");
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
      }, { timeout: 10_000, interval: 100 });
      expect(await t.server.database.prisma.message.count({ where: { id: old.id } })).toBe(0);
    } finally {
      await schedule.stop();
    }
    expect((await admin.api.admin.retentionPreview.query()).schedule).toBeNull();
  });
});

describe("data export (GET /api/export)", () => {
  type Person = Awaited<ReturnType<typeof person>>;

  async function download(who: Person | null, query = "", headers: Record<string, string> = {}) {
    return get(`/api/export${query}`, { ...(who ? { cookie: who.cookie } : {}), ...headers });
  }

  /** The file as the schema reads it: fails on anything that is not one valid chatline-export/1 document. */
  function parsed(text: string): UserExport {
    return userExportSchema.parse(JSON.parse(text));
  }

  const texts = (conversation: UserExport["conversations"][number]) =>
    conversation.messages.filter((m) => m.type === "TEXT").map((m) => m.content);

  it("streams a current member's conversations, messages, reactions and deletions as one valid JSON document", async () => {
    const ana = await person("Export Ana");
    const ben = await person("Export Ben");
    const group = await ana.api.conversations.createGroup.mutate({ name: "Exported", participantIds: [ben.user.id] });
    const send = (who: Person, content: string) =>
      who.api.messages.send.mutate({ conversationId: group.id, content, clientMessageId: `exp-${content.replace(/\W/g, "_")}` });
    const hello = await send(ana, "hello");
    await ben.api.messages.react.mutate({ messageId: hello.id, emoji: "👋" });
    const edited = await send(ben, "first draft");
    await ben.api.messages.edit.mutate({ messageId: edited.id, content: "second draft" });
    const deleted = await send(ana, "regrettable");
    await ana.api.messages.delete.mutate({ messageId: deleted.id });
    const direct = await ben.api.conversations.createDirect.mutate({ recipientId: ana.user.id });
    await ben.api.messages.send.mutate({ conversationId: direct.id, content: "just us", clientMessageId: "exp-direct" });

    const { response, text } = await download(ben);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="chatline-export-\d{4}-\d{2}-\d{2}\.json"$/);
    // Streamed: written as it is read, so no length is known up front.
    expect(response.headers.get("content-length")).toBeNull();
    const file = parsed(text);
    expect(file.format).toBe("chatline-export/1");
    expect(file.user).toMatchObject({ id: ben.user.id, email: ben.user.email, name: "Export Ben" });
    expect(file.conversations.map((c) => c.id).sort()).toEqual([group.id, direct.id].sort());
    const exported = file.conversations.find((c) => c.id === group.id)!;
    expect(exported).toMatchObject({ type: "GROUP", name: "Exported", membership: { role: "MEMBER", leftAt: null, muted: false } });
    expect(exported.participants.map((p) => p.id).sort()).toEqual([ana.user.id, ben.user.id].sort());
    expect(texts(exported)).toEqual(["hello", "second draft", null]);
    const [helloOut, editedOut, deletedOut] = exported.messages.filter((m) => m.type === "TEXT");
    expect(helloOut!.reactions).toEqual([{ emoji: "👋", userId: ben.user.id }]);
    expect(helloOut!.senderName).toBe("Export Ana");
    expect(editedOut!.editedAt).toBeInstanceOf(Date);
    expect(deletedOut!.deletedAt).toBeInstanceOf(Date);
    expect(texts(file.conversations.find((c) => c.id === direct.id)!)).toEqual(["just us"]);
    // In seq order, system messages ("created the group") included.
    const seqs = exported.messages.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(exported.messages[0]!.type).toBe("SYSTEM");

    // Someone in no conversation gets an empty list, not an error.
    const loner = await person("Export Loner");
    expect(parsed((await download(loner)).text).conversations).toEqual([]);
  });

  it("gives a former member the conversation as it stood when they left", async () => {
    const ana = await person("Window Ana");
    const ben = await person("Window Ben");
    const eve = await person("Window Eve");
    const cleo = await person("Window Cleo");
    const dev = await person("Window Dev");
    const group = await ana.api.conversations.createGroup.mutate({ name: "Windows", participantIds: [ben.user.id, eve.user.id] });
    const send = (who: Person, content: string) =>
      who.api.messages.send.mutate({ conversationId: group.id, content, clientMessageId: `win-${content.replace(/\W/g, "_")}` });
    await send(ana, "before cleo");
    await ana.api.conversations.addParticipants.mutate({ conversationId: group.id, userIds: [cleo.user.id] });
    const withCleo = await send(ana, "with cleo");
    const cleosOwn = await send(cleo, "cleo says hi");
    await ben.api.messages.react.mutate({ messageId: cleosOwn.id, emoji: "👋" });
    await ben.api.messages.react.mutate({ messageId: withCleo.id, emoji: "👍" });
    const editedInside = await send(ana, "draft inside");
    await ana.api.messages.edit.mutate({ messageId: editedInside.id, content: "edited inside" });
    const editedAfter = await send(ana, "as cleo saw it");
    const deletedInside = await send(ben, "regrettable");
    await ben.api.messages.delete.mutate({ messageId: deletedInside.id });
    const deletedAfter = await send(ben, "deleted after");
    await ana.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: cleo.user.id });

    // What happened after Cleo left.
    await send(ana, "after cleo");
    await ana.api.messages.edit.mutate({ messageId: editedAfter.id, content: "changed after cleo left" });
    await ben.api.messages.react.mutate({ messageId: cleosOwn.id, emoji: "🔥" });
    await ana.api.messages.react.mutate({ messageId: cleosOwn.id, emoji: "🎉" });
    // A reaction Cleo saw, taken back after she left: it stood when she left.
    await ben.api.messages.react.mutate({ messageId: withCleo.id, emoji: "👍" });
    await ben.api.messages.delete.mutate({ messageId: deletedAfter.id });
    await ana.api.conversations.addParticipants.mutate({ conversationId: group.id, userIds: [dev.user.id] });
    await eve.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: eve.user.id });

    // Ana, still a member, gets the conversation as it is now: the changes above are real.
    const anas = parsed((await download(ana)).text).conversations.find((c) => c.id === group.id)!;
    expect(texts(anas)).toContain("after cleo");
    expect(texts(anas)).toContain("changed after cleo left");
    expect(anas.participants.map((p) => p.id)).toContain(dev.user.id);

    const { response, text } = await download(cleo);
    expect(response.status).toBe(200);
    const file = parsed(text);
    expect(file.conversations).toHaveLength(1);
    const seen = file.conversations[0]!;
    expect(seen.membership.leftAt).toBeInstanceOf(Date);
    // Sent before she joined, or after she left: absent.
    expect(texts(seen)).toEqual(["with cleo", "cleo says hi", "edited inside", "as cleo saw it", null, "deleted after"]);
    const byId = new Map(seen.messages.map((m) => [m.id, m]));
    // Edited while she was there: as edited. Edited after: as she saw it, not edited.
    expect(byId.get(editedInside.id)!.editedAt).toBeInstanceOf(Date);
    expect(byId.get(editedAfter.id)).toMatchObject({ content: "as cleo saw it", editedAt: null });
    // Deleted while she was there: deleted. Deleted after: still there, as she saw it.
    expect(byId.get(deletedInside.id)!.deletedAt).toBeInstanceOf(Date);
    expect(byId.get(deletedAfter.id)).toMatchObject({ content: "deleted after", deletedAt: null });
    // Reactions as they stood when she left.
    expect(byId.get(cleosOwn.id)!.reactions).toEqual([{ emoji: "👋", userId: ben.user.id }]);
    expect(byId.get(withCleo.id)!.reactions).toEqual([{ emoji: "👍", userId: ben.user.id }]);
    // Participants: those who were there with her; Eve left after her, which she could not see.
    expect(seen.participants.map((p) => p.id).sort()).toEqual([ana.user.id, ben.user.id, eve.user.id, cleo.user.id].sort());
    const participant = (id: string) => seen.participants.find((p) => p.id === id)!;
    expect(participant(eve.user.id).leftAt).toBeNull();
    expect(participant(cleo.user.id).leftAt).toBeInstanceOf(Date);
    expect(JSON.stringify(file)).not.toContain(dev.user.id);
    expect(text).not.toContain("changed after cleo left");
    expect(text).not.toContain("after cleo\"");
  });

  it("allows one export per user per window: 429 with Retry-After, then again once the window is over", async () => {
    const saved = rateLimitConfig();
    // A 2-second window instead of a minute (counts start afresh).
    configureRateLimits({ ...saved, exportWindowSeconds: 2 });
    try {
      const ana = await person("Limited Ana");
      const ben = await person("Limited Ben");
      expect((await download(ana)).response.status).toBe(200);
      const refused = await download(ana);
      expect(refused.response.status).toBe(429);
      const retryAfter = Number(refused.response.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(2);
      const body = refused.json() as { error: string; retryAfterMs: number };
      expect(body.error).toMatch(/^You can download one export every 2 s\. Try again in [12] s\.$/);
      expect(body.retryAfterMs).toBeGreaterThan(0);
      expect(body.retryAfterMs).toBeLessThanOrEqual(2_000);
      // Per user: someone else is not held up.
      expect((await download(ben)).response.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, body.retryAfterMs));
      await vi.waitFor(async () => expect((await download(ana)).response.status).toBe(200), { timeout: 5_000, interval: 100 });
    } finally {
      configureRateLimits(saved);
    }
  });

  it("?userId= is for messaging:admin: the person's own messages only, audited with actor, address and user agent", async () => {
    const admin = await person("Export Admin", ["User", "Admin"]);
    const ana = await person("Export Ana 2");
    const ben = await person("Export Ben 2");
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "for the record", clientMessageId: "exp2-1" });
    await ben.api.messages.send.mutate({ conversationId: conversation.id, content: "private reply", clientMessageId: "exp2-2" });

    // Refusals cost nothing: neither a malformed nor an unknown id uses up the admin's export.
    expect((await download(admin, "?userId=not-a-uuid")).response.status).toBe(400);
    expect((await download(admin, "?userId=00000000-0000-4000-8000-000000000000")).response.status).toBe(404);

    const { response, text } = await download(admin, `?userId=${ana.user.id}`, {
      "x-forwarded-for": "2001:db8::77",
      "user-agent": "export-test/1",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="chatline-export-[a-z0-9-]+-\d{4}-\d{2}-\d{2}\.json"$/);
    const file = parsed(text);
    expect(file.user.id).toBe(ana.user.id);
    // Ana's own words only: an admin export is no way to read Ben's side of a private conversation.
    expect(file.conversations).toHaveLength(1);
    expect(file.conversations[0]!.messages.map((m) => m.content)).toEqual(["for the record"]);
    expect(text).not.toContain("private reply");
    const audit = await t.server.database.prisma.auditLog.findMany({ where: { action: "user.exported", targetId: ana.user.id } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: admin.user.id, targetType: "user", ip: "2001:db8::77", userAgent: "export-test/1" });
    // Your own download is not audited.
    expect((await download(ben)).response.status).toBe(200);
    expect(await t.server.database.prisma.auditLog.count({ where: { action: "user.exported", targetId: ben.user.id } })).toBe(0);
    // The limit counts the admin's exports, whoever they are of.
    expect((await download(admin, `?userId=${ben.user.id}`)).response.status).toBe(429);
  });

  it("needs a session; ?userId= needs messaging:admin; GET only", async () => {
    const ana = await person("Export Nosy");
    const ben = await person("Export Target");
    expect((await download(null)).response.status).toBe(401);
    expect((await download(null, "", { cookie: "next-auth.session-token=forged" })).response.status).toBe(401);
    expect((await download(null, `?userId=${ben.user.id}`)).response.status).toBe(401);
    const refused = await download(ana, `?userId=${ben.user.id}`);
    expect(refused.response.status).toBe(403);
    expect(refused.json()).toEqual({ error: 'You need the "messaging:admin" permission for this.' });
    expect(await t.server.database.prisma.auditLog.count({ where: { action: "user.exported", targetId: ben.user.id } })).toBe(0);
    // Refused without using up Ana's own export.
    expect((await download(ana)).response.status).toBe(200);
    const post = await fetch(`${t.baseUrl}/api/export`, { method: "POST", headers: { cookie: ana.cookie } });
    expect(post.status).toBe(405);
  });

  /** A direct conversation of `total` messages of 1,000 characters (about 1 MB of JSON per 1,000), written straight to the table. */
  async function bigConversation(owner: Person, other: Person, total: number) {
    const prisma = t.server.database.prisma;
    const conversation = await owner.api.conversations.createDirect.mutate({ recipientId: other.user.id });
    await prisma.$executeRaw`
      INSERT INTO messages (conversation_id, seq, sender_id, content, created_at)
      SELECT ${conversation.id}::uuid, n, ${owner.user.id}::uuid, repeat('x', 1000), now() FROM generate_series(1, ${total}) AS n`;
    await prisma.$executeRaw`UPDATE conversations SET last_seq = ${total} WHERE id = ${conversation.id}::uuid`;
    return conversation;
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("reads page by page only as fast as the client takes them (backpressure), and no further once it is gone", async () => {
    const prisma = t.server.database.prisma;
    const ana = await person("Big Ana");
    const ben = await person("Big Ben");
    // 20,000 messages of 1,000 characters (about 20 MB of JSON, 40 pages).
    const total = 20_000;
    await bigConversation(ana, ben, total);

    // Counts the pages of messages the export reads.
    const queryRaw = prisma.$queryRaw.bind(prisma);
    let pages = 0;
    const spy = vi.spyOn(prisma, "$queryRaw").mockImplementation(((query: TemplateStringsArray, ...values: unknown[]) => {
      if (query.join("?").includes("FROM messages m")) pages += 1;
      return queryRaw(query, ...values);
    }) as typeof prisma.$queryRaw);
    const controller = new AbortController();
    try {
      const response = await fetch(`${t.baseUrl}/api/export`, { headers: { cookie: ana.cookie }, signal: controller.signal });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      // The client stops taking: once the socket's buffers are full, the server waits
      // for them to drain instead of reading on into memory (reading on, it would
      // get through all 40 pages in about a second).
      let whileStalled = -1;
      for (let attempt = 0; attempt < 40 && pages !== whileStalled; attempt++) {
        whileStalled = pages;
        await sleep(500);
      }
      expect(pages).toBe(whileStalled);
      expect(whileStalled).toBeGreaterThan(0);
      expect(whileStalled).toBeLessThan(total / 500);
      expect(runningExports()).toBe(1);
      // The client goes away: the server hears 'close', reads no further page, and
      // the handler returns instead of waiting on a 'drain' that never comes.
      controller.abort();
      await vi.waitFor(() => expect(runningExports()).toBe(0), { timeout: 5_000, interval: 50 });
      expect(pages).toBeLessThanOrEqual(whileStalled + 1);
    } finally {
      spy.mockRestore();
    }
  });

  it("a client gone before the first byte leaves no handler waiting and spends nothing (own and ?userId=)", async () => {
    const prisma = t.server.database.prisma;
    const admin = await person("Gone Admin", ["User", "Admin"]);
    const ana = await person("Gone Ana");
    // Holds the user look-ups (the session's, the export subject's) while `holding`,
    // so the client is surely gone before the handler gets anywhere near the stream.
    const findUnique = prisma.user.findUnique.bind(prisma.user);
    let holding = true;
    let held = 0;
    let release = () => {};
    let gate = Promise.resolve();
    const spy = vi.spyOn(prisma.user, "findUnique").mockImplementation(((args: Parameters<typeof findUnique>[0]) => {
      if (!holding) return findUnique(args);
      held += 1;
      return gate.then(() => findUnique(args));
    }) as unknown as typeof prisma.user.findUnique);
    try {
      for (const [who, query] of [[ana, ""], [admin, `?userId=${ana.user.id}`]] as const) {
        holding = true;
        held = 0;
        gate = new Promise<void>((resolve) => (release = resolve));
        const socket = net.connect(t.server.port, "127.0.0.1");
        await once(socket, "connect");
        socket.write(`GET /api/export${query} HTTP/1.1\r\nHost: 127.0.0.1:${t.server.port}\r\nCookie: ${who.cookie}\r\n\r\n`);
        await vi.waitFor(() => expect(held).toBe(1));
        expect(runningExports()).toBe(1);
        // The client goes away right after its request; the server hears it while it waits on the database.
        socket.destroy();
        await sleep(200);
        holding = false;
        release();
        await vi.waitFor(() => expect(runningExports()).toBe(0), { timeout: 5_000, interval: 20 });
      }
    } finally {
      release();
      spy.mockRestore();
    }
    // Nothing was spent: no audit entry, and both may export at once.
    expect(await prisma.auditLog.count({ where: { action: "user.exported", targetId: ana.user.id } })).toBe(0);
    expect((await download(ana)).response.status).toBe(200);
    expect((await download(admin, `?userId=${ana.user.id}`)).response.status).toBe(200);
  });

  it("cuts a client that takes nothing for the stall timeout; one export under way per user", async () => {
    const ana = await person("Stalled Ana");
    const ben = await person("Stalled Ben");
    await bigConversation(ana, ben, 20_000);
    const savedStreams = exportStreamConfig();
    const savedLimits = rateLimitConfig();
    configureExportStreams({ stallTimeoutMs: 3_000 });
    // A 1-second window: the limit is not what refuses the second export below.
    configureRateLimits({ ...savedLimits, exportWindowSeconds: 1 });
    try {
      const started = Date.now();
      const response = await fetch(`${t.baseUrl}/api/export`, { headers: { cookie: ana.cookie } });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      // The client stops reading. Past the window, a second export is still refused while the first is under way.
      await sleep(1_200);
      const second = await download(ana);
      expect(second.response.status).toBe(429);
      expect(second.json()).toEqual({ error: "Your previous export is still being downloaded. Wait for it to finish, then try again." });
      expect(runningExports()).toBe(1);
      // No drain for the stall timeout: the server gives up on it, without any help from the client.
      await vi.waitFor(() => expect(runningExports()).toBe(0), { timeout: 10_000, interval: 50 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
      // The client sees a failed download, not a file that merely ends early.
      const rest = async () => {
        for (;;) if ((await reader.read()).done) return "complete";
      };
      await expect(rest()).rejects.toThrow();
      // The slot is free again (the answer's status is enough; the client leaves after it).
      const again = new AbortController();
      const third = await fetch(`${t.baseUrl}/api/export`, { headers: { cookie: ana.cookie }, signal: again.signal });
      expect(third.status).toBe(200);
      again.abort();
      await vi.waitFor(() => expect(runningExports()).toBe(0), { timeout: 5_000, interval: 50 });
    } finally {
      configureExportStreams(savedStreams);
      configureRateLimits(savedLimits);
    }
  });

  it("refuses a download started from another site (Sec-Fetch-Site, else Origin or Referer), own and ?userId=, at no cost", async () => {
    const admin = await person("Site Admin", ["User", "Admin"]);
    const ana = await person("Site Ana");
    const ben = await person("Site Ben");
    const foreign: Record<string, string>[] = [
      // A link on another site: the browser says where the navigation comes from.
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { "sec-fetch-site": "cross-site", referer: `${TEST_APP_ORIGIN}/messages` },
      // Browsers without Sec-Fetch-Site: Origin or Referer, when sent, must be ours.
      { origin: "https://evil.example" },
      { origin: "null" },
      { referer: "https://evil.example/page" },
      { origin: TEST_APP_ORIGIN, referer: "https://evil.example/page" },
      { referer: "not a url" },
    ];
    for (const [who, query] of [[ana, ""], [admin, `?userId=${ana.user.id}`]] as const) {
      for (const headers of foreign) {
        const refused = await download(who, query, headers);
        expect(refused.response.status, `${query} ${JSON.stringify(headers)}`).toBe(403);
        expect(refused.json()).toEqual({ error: "Cross-site requests are not allowed: start the download from Chatline's own pages." });
      }
    }
    expect(await t.server.database.prisma.auditLog.count({ where: { action: "user.exported", targetId: ana.user.id } })).toBe(0);

    // From our own pages, the address bar, or a client that sends none of these
    // headers (curl with a cookie, as every other test here): allowed, and the
    // refusals above used up nobody's export.
    const own = await download(ana, "", { "sec-fetch-site": "same-origin", referer: `${TEST_APP_ORIGIN}/messages` });
    expect(own.response.status).toBe(200);
    const asAdmin = await download(admin, `?userId=${ana.user.id}`, { origin: TEST_APP_ORIGIN, referer: `${TEST_APP_ORIGIN}/dashboard/operations` });
    expect(asAdmin.response.status).toBe(200);
    expect(parsed(asAdmin.text).user.id).toBe(ana.user.id);
    expect(await t.server.database.prisma.auditLog.count({ where: { action: "user.exported", targetId: ana.user.id } })).toBe(1);
    expect((await download(ben, "", { "sec-fetch-site": "none" })).response.status).toBe(200);
  });
});
