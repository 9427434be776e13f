import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DELETED_PREVIEW, sendSystemNotification } from "~/features/notifications/notifications.service";
import { notificationChannels, notificationRuntime } from "~/features/notifications/runtime";
import { getRealtime } from "~/server/realtime";
import { ROLES } from "~/features/permissions/catalog";
import { collectEvents, cursorOf } from "../helpers/event-collector";
import { codeOf, errorOf } from "../helpers/error-code";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// The notification centre against the real server and database: a new message
// notifies each member who is not looking at it, unless they muted it, turned
// the category off or are in do-not-disturb; a burst collapses into one
// notification; the bell's list, count, read and delete; live events; the
// admins' announcements.

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

async function person(name: string, roles?: (typeof ROLES)[keyof typeof ROLES][]) {
  const user = await t.createUser({ name, roles });
  const client = await t.client({ userId: user.id, origin: TEST_APP_ORIGIN });
  return { user, api: client.api, client };
}
type Person = Awaited<ReturnType<typeof person>>;

let sendCounter = 0;
async function send(from: Person, conversationId: string, content: string) {
  sendCounter += 1;
  return from.api.messages.send.mutate({ conversationId, content, clientMessageId: `notify-${sendCounter}` });
}

/** Runs the notifier until it has read everything committed: no waiting on timers. */
async function notified() {
  await notificationRuntime()!.notifier.drain();
}

async function pair() {
  const ana = await person("Ana Notifier");
  const ben = await person("Ben Notified");
  const chat = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
  return { ana, ben, chat };
}

describe("a new message", () => {
  it("notifies the other member, with the sender, a preview and a link, and collapses a burst into one", async () => {
    const { ana, ben, chat } = await pair();
    await send(ana, chat.id, "Lunch at noon?");
    await notified();
    const first = await ben.api.notifications.list.query({});
    expect(first.items).toEqual([
      expect.objectContaining({
        category: "SOCIAL",
        title: "Ana Notifier",
        body: "Lunch at noon?",
        link: `/messages/${chat.id}`,
        conversationId: chat.id,
        count: 1,
        readAt: null,
      }),
    ]);
    expect(await ben.api.notifications.unreadCount.query()).toEqual({ unread: 1 });
    // The sender is not told of their own message.
    expect((await ana.api.notifications.list.query({})).items).toEqual([]);

    await send(ana, chat.id, "Or one?");
    await send(ana, chat.id, "Let me know");
    await notified();
    const burst = await ben.api.notifications.list.query({});
    expect(burst.items).toHaveLength(1);
    expect(burst.items[0]).toMatchObject({ id: first.items[0]!.id, count: 3, body: "Let me know" });
    expect(await ben.api.notifications.unreadCount.query()).toEqual({ unread: 1 });

    // Once read, the next message starts a new notification.
    await ben.api.notifications.markRead.mutate({ ids: [first.items[0]!.id] });
    await send(ana, chat.id, "Still there?");
    await notified();
    const after = await ben.api.notifications.list.query({});
    expect(after.items.map((item) => [item.body, item.count, item.readAt === null])).toEqual([
      ["Still there?", 1, true],
      ["Let me know", 3, false],
    ]);
  });

  it("names the group and the sender in a group", async () => {
    const ana = await person("Ana Group");
    const ben = await person("Ben Group");
    const cat = await person("Cat Group");
    const group = await ana.api.conversations.createGroup.mutate({ name: "Design crew", participantIds: [ben.user.id, cat.user.id] });
    await send(ana, group.id, "Standup moved to 10");
    await notified();
    for (const member of [ben, cat]) {
      expect((await member.api.notifications.list.query({})).items).toEqual([
        expect.objectContaining({ title: "Design crew", body: "Ana Group: Standup moved to 10" }),
      ]);
    }
  });

  it("does not notify someone looking at the conversation, and does notify them of another one", async () => {
    const { ana, ben, chat } = await pair();
    const other = await person("Cat Elsewhere");
    const side = await other.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const stream = collectEvents(ben.client);
    await stream.ready();
    // Over the WebSocket: this connection shows the conversation.
    await ben.api.presence.set.mutate({ status: "active", viewingConversationId: chat.id });
    await send(ana, chat.id, "You see this one as it comes");
    await send(other, side.id, "But not this one");
    await notified();
    expect((await ben.api.notifications.list.query({})).items.map((item) => item.body)).toEqual(["But not this one"]);
    await vi.waitFor(() => expect(stream.ofType("notification.upserted").map((event) => event.notification.body)).toEqual(["But not this one"]));

    // An idle screen is not being looked at.
    await ben.api.presence.set.mutate({ status: "idle" });
    await send(ana, chat.id, "Are you there?");
    await notified();
    expect((await ben.api.notifications.list.query({})).items.map((item) => item.body)).toContain("Are you there?");
    stream.stop();
  });

  it("ignores a viewing report sent over HTTP, where the screen is unknown", async () => {
    const { ana, ben, chat } = await pair();
    const stream = collectEvents(ben.client);
    await stream.ready();
    const response = await fetch(`${t.baseUrl}/api/trpc/presence.set`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: TEST_APP_ORIGIN, cookie: await t.sessionCookie(ben.user.id) },
      body: JSON.stringify({ json: { status: "active", viewingConversationId: chat.id } }),
    });
    expect(response.status).toBe(200);
    await send(ana, chat.id, "ping");
    await notified();
    expect((await ben.api.notifications.list.query({})).items).toHaveLength(1);
    stream.stop();
  });

  it("does not notify a member who lost messaging access", async () => {
    const { ana, ben, chat } = await pair();
    await t.server.database.prisma.userRole.deleteMany({ where: { userId: ben.user.id } });
    await send(ana, chat.id, "can you still read this?");
    await notified();
    expect(await t.server.database.prisma.notification.count({ where: { userId: ben.user.id } })).toBe(0);
  });

  it("does not notify a member who muted the conversation", async () => {
    const { ana, ben, chat } = await pair();
    await ben.api.conversations.setMuted.mutate({ conversationId: chat.id, muted: true });
    // The settings page lists it among the muted ones.
    expect((await ben.api.conversations.list.query({ mutedOnly: true })).items.map((item) => item.id)).toEqual([chat.id]);
    expect((await ana.api.conversations.list.query({ mutedOnly: true })).items).toEqual([]);
    await send(ana, chat.id, "shh");
    await notified();
    expect((await ben.api.notifications.list.query({})).items).toEqual([]);
  });

  it("does not notify someone who turned messages off in the app", async () => {
    const { ana, ben, chat } = await pair();
    await ben.api.notifications.preferences.update.mutate({ categories: { SOCIAL: { inApp: false } } });
    await send(ana, chat.id, "quiet");
    await notified();
    expect((await ben.api.notifications.list.query({})).items).toEqual([]);
  });

  it("does not notify inside do-not-disturb (in the person's time zone), and does outside it", async () => {
    const { ana, ben, chat } = await pair();
    const now = new Date();
    const hh = (offset: number) => `${String((now.getUTCHours() + offset + 24) % 24).padStart(2, "0")}:00`;
    // A window around now in UTC, written in a zone 5 hours behind (no summer time there).
    const zone = "America/Bogota";
    await ben.api.notifications.preferences.update.mutate({
      doNotDisturb: { enabled: true, start: hh(-1 - 5), end: hh(1 - 5), timeZone: zone },
    });
    await send(ana, chat.id, "during the night");
    await notified();
    expect((await ben.api.notifications.list.query({})).items).toEqual([]);

    // The same hours read in UTC are not now (five hours off): told.
    await ben.api.notifications.preferences.update.mutate({ doNotDisturb: { timeZone: "UTC" } });
    await send(ana, chat.id, "in the morning");
    await notified();
    expect((await ben.api.notifications.list.query({})).items.map((item) => item.body)).toEqual(["in the morning"]);
  });

  it("is not notified to a member who left, nor for messages they had already read", async () => {
    const ana = await person("Ana Left");
    const ben = await person("Ben Left");
    const cat = await person("Cat Left");
    const group = await ana.api.conversations.createGroup.mutate({ name: "Leavers", participantIds: [ben.user.id, cat.user.id] });
    await ana.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: cat.user.id });
    await send(ana, group.id, "after cat left");
    await notified();
    expect((await cat.api.notifications.list.query({})).items).toEqual([]);
    expect((await ben.api.notifications.list.query({})).items).toHaveLength(1);
  });
});

describe("the bell", () => {
  it("stops quoting a message once it is deleted, in the bell and in what is replayed", async () => {
    const { ana, ben, chat } = await pair();
    const cursor = await cursorOf(ben.client);
    const sent = await send(ana, chat.id, "the vault code is 0451");
    await notified();
    await ana.api.messages.delete.mutate({ messageId: sent.id });
    expect((await ben.api.notifications.list.query({})).items.map((item) => item.body)).toEqual([DELETED_PREVIEW]);
    const replay = collectEvents(ben.client, { lastEventId: cursor });
    await replay.ready();
    expect(replay.ofType("notification.upserted").length).toBeGreaterThan(0);
    expect(JSON.stringify(replay.events)).not.toContain("0451");
    replay.stop();
  });

  it("reads a conversation's notifications when the conversation is read to its end, on every device", async () => {
    const { ana, ben, chat } = await pair();
    const stream = collectEvents(ben.client);
    await stream.ready();
    const sent = await send(ana, chat.id, "read me");
    await notified();
    await ben.api.conversations.markAsRead.mutate({ conversationId: chat.id, upToSeq: sent.seq });
    expect(await ben.api.notifications.unreadCount.query()).toEqual({ unread: 0 });
    await vi.waitFor(() => expect(stream.ofType("notifications.read")).toHaveLength(1));
    stream.stop();
  });

  it("quotes an edited message as it is now, in the bell and in what is replayed", async () => {
    const { ana, ben, chat } = await pair();
    const cursor = await cursorOf(ben.client);
    const sent = await send(ana, chat.id, "the password is hunter2");
    await notified();
    await ana.api.messages.edit.mutate({ messageId: sent.id, content: "ask me for the password" });
    expect((await ben.api.notifications.list.query({})).items.map((item) => item.body)).toEqual(["ask me for the password"]);
    const replay = collectEvents(ben.client, { lastEventId: cursor });
    await replay.ready();
    expect(replay.ofType("notification.upserted").at(-1)?.notification.body).toBe("ask me for the password");
    expect(JSON.stringify(replay.ofType("notification.upserted"))).not.toContain("hunter2");
    replay.stop();

    // Edited before the notifier ran: the bell never had the old text.
    const second = await send(ana, chat.id, "my pin is 1234");
    await ana.api.messages.edit.mutate({ messageId: second.id, content: "never mind" });
    await notified();
    expect(JSON.stringify((await ben.api.notifications.list.query({})).items)).not.toContain("1234");
  });

  it("reads with the conversation the notifications of what was read, and only those", async () => {
    const { ana, ben, chat } = await pair();
    const first = await send(ana, chat.id, "one");
    await notified();
    const [older] = (await ben.api.notifications.list.query({})).items;
    await ben.api.notifications.markRead.mutate({ ids: [older!.id] });
    await send(ana, chat.id, "two");
    await notified();
    // Reading up to "one" leaves the notification of "two" unread.
    await ben.api.conversations.markAsRead.mutate({ conversationId: chat.id, upToSeq: first.seq });
    expect(await ben.api.notifications.unreadCount.query()).toEqual({ unread: 1 });

    // And reading up to a message reads its notification though newer messages came
    // since (which did not notify: Ben had the conversation on screen).
    const cat = await person("Cat Reader");
    const group = await ana.api.conversations.createGroup.mutate({ name: "Readers", participantIds: [ben.user.id, cat.user.id] });
    const hello = await send(ana, group.id, "hello");
    await notified();
    const stream = collectEvents(ben.client);
    await stream.ready();
    await ben.api.presence.set.mutate({ status: "active", viewingConversationId: group.id });
    await send(cat, group.id, "seen as it came");
    await notified();
    await ben.api.presence.set.mutate({ viewingConversationId: null });
    await ben.api.conversations.markAsRead.mutate({ conversationId: group.id, upToSeq: hello.seq });
    expect((await ben.api.notifications.list.query({ unreadOnly: true })).items.map((item) => item.conversationId)).toEqual([chat.id]);
    stream.stop();
  });

  it("marks all read, deletes one's own only, and pages newest first", async () => {
    const ben = await person("Ben Pages");
    for (let index = 0; index < 5; index += 1) {
      const sender = await person(`Sender ${index}`);
      const chat = await sender.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
      await send(sender, chat.id, `message ${index}`);
      await notified();
    }
    const first = await ben.api.notifications.list.query({ limit: 2 });
    expect(first.items.map((item) => item.body)).toEqual(["message 4", "message 3"]);
    const second = await ben.api.notifications.list.query({ limit: 2, cursor: first.nextCursor });
    expect(second.items.map((item) => item.body)).toEqual(["message 2", "message 1"]);
    const third = await ben.api.notifications.list.query({ limit: 2, cursor: second.nextCursor });
    expect(third.items.map((item) => item.body)).toEqual(["message 0"]);
    expect(third.nextCursor).toBeNull();

    const stranger = await person("Stranger");
    expect(await codeOf(stranger.api.notifications.delete.mutate({ id: first.items[0]!.id }))).toBe("NOT_FOUND");
    expect(await stranger.api.notifications.markRead.mutate({ ids: [first.items[0]!.id] })).toEqual({ changed: 0 });

    await ben.api.notifications.delete.mutate({ id: first.items[0]!.id });
    expect(await ben.api.notifications.markAllRead.mutate()).toEqual({ changed: 4 });
    expect(await ben.api.notifications.unreadCount.query()).toEqual({ unread: 0 });
    expect((await ben.api.notifications.list.query({ unreadOnly: true })).items).toEqual([]);
    expect((await ben.api.notifications.list.query({})).items).toHaveLength(4);
  });
});

describe("preferences", () => {
  it("starts with everything on, keeps what is changed, and refuses an unknown time zone", async () => {
    const ben = await person("Ben Prefs");
    const initial = await ben.api.notifications.preferences.get.query();
    expect(initial.categories).toEqual({
      SOCIAL: { inApp: true, email: true, push: true },
      SYSTEM: { inApp: true, email: true, push: true },
    });
    expect(initial.doNotDisturb.enabled).toBe(false);
    expect(initial.doNotDisturbSaved).toBe(false);
    expect(initial.available).toEqual({ email: false, push: false });
    expect(initial.emailDigest).toEqual({ afterMinutes: expect.any(Number), intervalMinutes: expect.any(Number) });

    const changed = await ben.api.notifications.preferences.update.mutate({
      categories: { SOCIAL: { email: false } },
      doNotDisturb: { enabled: true, start: "21:30", end: "06:45", timeZone: "Europe/Berlin" },
    });
    expect(changed.categories.SOCIAL).toEqual({ inApp: true, email: false, push: true });
    expect(changed.doNotDisturb).toEqual({ enabled: true, start: "21:30", end: "06:45", timeZone: "Europe/Berlin" });
    expect(changed.doNotDisturbSaved).toBe(true);
    expect(await ben.api.notifications.preferences.get.query()).toMatchObject({ categories: changed.categories, doNotDisturb: changed.doNotDisturb });

    const bad = await errorOf(ben.api.notifications.preferences.update.mutate({ doNotDisturb: { timeZone: "Mars/Olympus" } }));
    expect(bad.data.code).toBe("BAD_REQUEST");
    expect(bad.message).toContain("time zone");
    expect(await codeOf(ben.api.notifications.preferences.update.mutate({ doNotDisturb: { start: "25:00" } }))).toBe("BAD_REQUEST");
    // Push needs the server's keys.
    expect(
      await codeOf(
        ben.api.notifications.push.subscribe.mutate({
          endpoint: "https://push.example.com/abc",
          keys: { p256dh: "B".repeat(87), auth: "A".repeat(22) },
        }),
      ),
    ).toBe("PRECONDITION_FAILED");
  });
});

describe("announcements", () => {
  it("reach everyone with a role, live, and only an admin sends them", async () => {
    const admin = await person("Admin Announcer", [ROLES.admin]);
    const ben = await person("Ben Listener");
    const stream = collectEvents(ben.client);
    await stream.ready();
    expect(
      await codeOf(ben.api.notifications.sendSystem.mutate({ title: "Hi", audience: { kind: "everyone" } })),
    ).toBe("FORBIDDEN");

    const roles = await t.server.database.prisma.role.findMany({ where: { name: { in: [ROLES.user, ROLES.admin] } } });
    const userRole = roles.find((role) => role.name === ROLES.user)!;
    const sent = await admin.api.notifications.sendSystem.mutate({
      title: "Maintenance tonight",
      body: "Chat is down 22:00-22:15.",
      link: "/messages",
      audience: { kind: "role", roleId: userRole.id },
    });
    expect(sent.recipients).toBeGreaterThan(0);
    expect((await ben.api.notifications.list.query({})).items).toEqual([
      expect.objectContaining({ category: "SYSTEM", title: "Maintenance tonight", body: "Chat is down 22:00-22:15.", link: "/messages" }),
    ]);
    // The admin holds only the Admin role here: not in the audience.
    expect((await admin.api.notifications.list.query({})).items).toEqual([]);
    await vi.waitFor(() => expect(stream.ofType("notification.upserted").map((event) => event.notification.title)).toEqual(["Maintenance tonight"]));
    stream.stop();

    const audit = await t.server.database.prisma.auditLog.findFirst({ where: { action: "notification.system_sent", actorId: admin.user.id } });
    expect(audit?.metadata).toMatchObject({ title: "Maintenance tonight", recipients: sent.recipients });

    expect(
      await codeOf(admin.api.notifications.sendSystem.mutate({ title: "x", link: "https://evil.example", audience: { kind: "everyone" } })),
    ).toBe("BAD_REQUEST");
  });

  it("reach every holder of a role however many batches it takes, each once", async () => {
    const admin = await person("Admin Batches", [ROLES.admin]);
    const prisma = t.server.database.prisma;
    const role = await prisma.role.create({ data: { name: `Batch role ${Date.now()}` } });
    const members = await Promise.all(Array.from({ length: 5 }, (_, index) => t.createUser({ name: `Batch ${index}` })));
    await prisma.userRole.createMany({ data: members.map((member) => ({ userId: member.id, roleId: role.id })) });
    const sent = await sendSystemNotification(
      { prisma, realtime: getRealtime() },
      admin.user,
      { title: "In twos", body: "", audience: { kind: "role", roleId: role.id } },
      notificationChannels(),
      2,
    );
    expect(sent.recipients).toBe(5);
    const counts = await prisma.notification.groupBy({ by: ["userId"], where: { title: "In twos" }, _count: true });
    expect(counts.map((row) => row._count).sort()).toEqual([1, 1, 1, 1, 1]);
    expect(new Set(counts.map((row) => row.userId))).toEqual(new Set(members.map((member) => member.id)));
  });
});
