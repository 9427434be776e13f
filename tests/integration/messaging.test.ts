import { notificationRuntime } from "~/features/notifications/runtime";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type WebSocket from "ws";
import { receiptEvents } from "~/features/messages/receipts";
import { invalidateMessagingLimits } from "~/features/settings/settings.service";
import { createNodeTrpcClient } from "~/trpc/node-client";
import { collectEvents, cursorOf } from "../helpers/event-collector";
import { randomTestAddress, startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

async function person(name: string) {
  const user = await t.createUser({ name });
  const client = await t.client({ userId: user.id, origin: TEST_APP_ORIGIN });
  return { user, client, api: client.api };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "OK",
    (error: { data?: { code?: string } }) => error.data?.code ?? "UNKNOWN",
  );
}

describe("two people chatting", () => {
  it("delivers a message live and shows the sender when it was read", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const anaEvents = collectEvents(ana.client);
    const benEvents = collectEvents(ben.client);
    await Promise.all([anaEvents.ready(), benEvents.ready()]);

    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const sent = await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "  hello Ben  ", clientMessageId: "m-1" });
    expect(sent).toMatchObject({ seq: 1, content: "hello Ben", senderId: ana.user.id });

    await vi.waitFor(() => expect(benEvents.ofType("message.created")).toHaveLength(1));
    expect(benEvents.ofType("conversation.created")[0]?.conversation.id).toBe(conversation.id);
    expect(benEvents.ofType("message.created")[0]?.message).toMatchObject({ id: sent.id, content: "hello Ben", seq: 1 });

    const benView = await ben.api.conversations.list.query();
    expect(benView.items[0]).toMatchObject({ id: conversation.id, unreadCount: 1, lastMessage: { preview: "hello Ben" } });
    expect(await ben.api.conversations.unreadCount.query()).toEqual({ total: 1 });

    expect(await ben.api.conversations.markAsRead.mutate({ conversationId: conversation.id, upToSeq: 1 })).toEqual({
      lastReadSeq: 1,
      unreadCount: 0,
    });
    // Ben's client received the message before he read it: a DELIVERED receipt may come
    // first (the delivery tracker flushes on its own timer), and READ must come.
    await vi.waitFor(() => expect(anaEvents.receipts().filter((r) => r.status === "READ")).toHaveLength(1));
    const receipts = anaEvents.receipts();
    expect(receipts.at(-1)).toMatchObject({ userId: ben.user.id, status: "READ", upToSeq: 1 });
    for (const receipt of receipts.slice(0, -1)) expect(receipt).toMatchObject({ userId: ben.user.id, status: "DELIVERED", upToSeq: 1 });
    anaEvents.stop();
    benEvents.stop();
  });

  it("stores one message for ten simultaneous sends with one client message id", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        ana.api.messages.send.mutate({ conversationId: conversation.id, content: "only once", clientMessageId: "dup-1" }),
      ),
    );
    expect(new Set(results.map((m) => m.id)).size).toBe(1);
    const history = await ben.api.messages.list.query({ conversationId: conversation.id });
    expect(history.items.map((m) => [m.seq, m.content])).toEqual([[1, "only once"]]);
    // Hours later, the same key still answers with the original.
    const retry = await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "different text", clientMessageId: "dup-1" });
    expect(retry.id).toBe(results[0]!.id);
  });

  it("gives both people the same direct conversation when they start it at the same moment", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const [fromAna, fromBen] = await Promise.all([
      ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id }),
      ben.api.conversations.createDirect.mutate({ recipientId: ana.user.id }),
    ]);
    expect(fromAna.id).toBe(fromBen.id);
    expect(await t.server.database.prisma.conversation.count({ where: { id: fromAna.id } })).toBe(1);
  });
});

describe("a client that was away", () => {
  it("receives all 100 messages it missed, in order, once", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const cursor = await cursorOf(ben.client);

    for (let i = 1; i <= 100; i++) {
      await ana.api.messages.send.mutate({ conversationId: conversation.id, content: `message ${i}`, clientMessageId: `away-${i}` });
    }
    // The burst has become Ben's one notification by the time he is back.
    await notificationRuntime()!.notifier.drain();
    const after = collectEvents(ben.client, { lastEventId: cursor });
    await after.ready();
    const received = after.ofType("message.created").map((e) => e.message.seq);
    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // Stored as it was created; its growth went live only, and the bell holds the whole burst.
    expect(after.ofType("notification.upserted")).toHaveLength(1);
    expect((await ben.api.notifications.list.query({})).items.map((item) => item.count)).toEqual([100]);
    expect(after.ofType("ready")[0]).toMatchObject({ replayed: 101 });
    after.stop();
  });

  it("gets no duplicate where replay and live overlap", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const cursor = await cursorOf(ben.client);
    for (let i = 1; i <= 30; i++) {
      await ana.api.messages.send.mutate({ conversationId: conversation.id, content: `early ${i}`, clientMessageId: `early-${i}` });
    }
    // Resubscribe while more messages are being sent: some arrive by replay, some live, some both ways.
    const sending = (async () => {
      for (let i = 31; i <= 60; i++) {
        await ana.api.messages.send.mutate({ conversationId: conversation.id, content: `late ${i}`, clientMessageId: `late-${i}` });
      }
    })();
    const after = collectEvents(ben.client, { lastEventId: cursor });
    await sending;
    await vi.waitFor(() => expect(after.ofType("message.created")).toHaveLength(60));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(after.ofType("message.created").map((e) => e.message.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    after.stop();
  });

  it("resumes from its cursor after a drop even when a typing event was the last thing it got", async () => {
    const ana = await person("Ana");
    const benUser = await t.createUser({ name: "Ben" });
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: benUser.id });
    // Reconnects after a second: the message below is committed before Ben is back.
    const ben = createNodeTrpcClient({
      baseUrl: t.baseUrl,
      cookie: await t.sessionCookie(benUser.id),
      origin: TEST_APP_ORIGIN,
      headers: { "x-forwarded-for": randomTestAddress() },
      retryDelayMs: () => 1_000,
    });
    try {
      const benEvents = collectEvents(ben);
      await benEvents.ready();
      await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "before", clientMessageId: "drop-1" });
      await vi.waitFor(() => expect(benEvents.ofType("message.created")).toHaveLength(1));
      // Ben's bell has it before the drop: what is replayed below is the conversation's alone.
      await notificationRuntime()!.notifier.drain();
      await vi.waitFor(() => expect(benEvents.ofType("notification.upserted")).toHaveLength(1));
      // Typing carries no event id of its own; wsLink keeps the id of the last item it got as its cursor.
      await ana.api.messages.typing.mutate({ conversationId: conversation.id, isTyping: true });
      await vi.waitFor(() => expect(benEvents.ofType("typing")).toHaveLength(1));

      // The network goes away with no close handshake, and Ana writes before Ben is back.
      (ben.wsClient.connection?.ws as unknown as WebSocket).terminate();
      await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "while away", clientMessageId: "drop-2" });
      await vi.waitFor(() => expect(benEvents.ofType("ready")).toHaveLength(2), { timeout: 5_000 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(benEvents.ofType("message.created").map((e) => e.message.content)).toEqual(["before", "while away"]);
      expect(benEvents.ofType("ready")[1]).toMatchObject({ replayed: 1 });
      benEvents.stop();
    } finally {
      await ben.close();
    }
  });

  it("is told to resync when its cursor cannot be replayed", async () => {
    const ana = await person("Ana");
    const events = collectEvents(ana.client, { lastEventId: "999999999999" });
    await vi.waitFor(() => expect(events.errors).toHaveLength(1));
    expect(events.errors[0]).toMatchObject({ message: "RESYNC_REQUIRED", data: { code: "PRECONDITION_FAILED" } });
  });
});

describe("groups", () => {
  it("adds and removes members with system messages; a removed member stops receiving at once", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const cleo = await person("Cleo");
    const dev = await person("Dev");
    const cleoEvents = collectEvents(cleo.client);
    const devEvents = collectEvents(dev.client);
    await Promise.all([cleoEvents.ready(), devEvents.ready()]);

    const group = await ana.api.conversations.createGroup.mutate({ name: "Launch", participantIds: [ben.user.id, cleo.user.id] });
    expect(group.participants.map((p) => p.name).sort()).toEqual(["Ana", "Ben", "Cleo"]);
    await ana.api.conversations.addParticipants.mutate({ conversationId: group.id, userIds: [dev.user.id] });
    await vi.waitFor(() => expect(devEvents.ofType("message.created").map((e) => e.message.content)).toEqual(["Ana added Dev"]));

    await ana.api.messages.send.mutate({ conversationId: group.id, content: "before", clientMessageId: "g-1" });
    await vi.waitFor(() => expect(cleoEvents.ofType("message.created").some((e) => e.message.content === "before")).toBe(true));

    // Only the creator (or a moderator) removes others.
    expect(await codeOf(ben.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: cleo.user.id }))).toBe(
      "FORBIDDEN",
    );
    await ana.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: cleo.user.id });
    await vi.waitFor(() => expect(cleoEvents.ofType("conversation.member_removed")).toHaveLength(1));
    await ana.api.messages.send.mutate({ conversationId: group.id, content: "after", clientMessageId: "g-2" });
    await vi.waitFor(() => expect(devEvents.ofType("message.created").some((e) => e.message.content === "after")).toBe(true));
    expect(cleoEvents.ofType("message.created").map((e) => e.message.content)).not.toContain("after");
    expect(await codeOf(cleo.api.messages.list.query({ conversationId: group.id }))).toBe("NOT_FOUND");

    const history = await ana.api.messages.list.query({ conversationId: group.id });
    expect(history.items.filter((m) => m.type === "SYSTEM").map((m) => m.content)).toEqual([
      'Ana created the group "Launch"',
      "Ana added Dev",
      "Ana removed Cleo",
    ]);
    expect(history.items.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    cleoEvents.stop();
    devEvents.stop();
  });

  it("respects the maximum group size from the settings", async () => {
    const ana = await person("Ana");
    const others = await Promise.all([person("B"), person("C"), person("D")]);
    await t.server.database.prisma.messagingSettings.update({ where: { id: 1 }, data: { maxGroupParticipants: 3 } });
    invalidateMessagingLimits();
    try {
      expect(
        await codeOf(
          ana.api.conversations.createGroup.mutate({ name: "Too big", participantIds: others.map((o) => o.user.id) }),
        ),
      ).toBe("BAD_REQUEST");
    } finally {
      await t.server.database.prisma.messagingSettings.update({ where: { id: 1 }, data: { maxGroupParticipants: 50 } });
      invalidateMessagingLimits();
    }
  });
});

describe("editing, deleting and reacting", () => {
  it("reaches the other side, and deleted content is served to nobody, replay included", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const start = collectEvents(ben.client);
    await start.ready();
    const cursor = start.lastEventId!;
    const message = await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "secret plan", clientMessageId: "s-1" });
    await ana.api.messages.edit.mutate({ messageId: message.id, content: "secret plan v2" });
    const reacted = await ben.api.messages.react.mutate({ messageId: message.id, emoji: "👍" });
    expect(reacted.reactions).toEqual([{ emoji: "👍", count: 1, userIds: [ben.user.id] }]);
    expect(await codeOf(ben.api.messages.edit.mutate({ messageId: message.id, content: "hijack" }))).toBe("FORBIDDEN");
    expect(await codeOf(ben.api.messages.delete.mutate({ messageId: message.id }))).toBe("FORBIDDEN");
    await vi.waitFor(() => expect(start.ofType("reaction.updated")).toHaveLength(1));
    expect(start.ofType("message.updated")[0]?.message).toMatchObject({ content: "secret plan v2" });

    await ana.api.messages.delete.mutate({ messageId: message.id });
    await vi.waitFor(() => expect(start.ofType("message.deleted")).toHaveLength(1));
    start.stop();

    const listed = await ben.api.messages.list.query({ conversationId: conversation.id });
    expect(listed.items[0]).toMatchObject({ content: null, reactions: [] });
    expect(listed.items[0]?.deletedAt).toBeInstanceOf(Date);
    const replay = collectEvents(ben.client, { lastEventId: cursor });
    await replay.ready();
    expect(JSON.stringify(replay.events)).not.toContain("secret plan");
    replay.stop();
  });
});

describe("when messaging is turned off", () => {
  it("refuses with FORBIDDEN and a clear message", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    await t.server.database.prisma.messagingSettings.update({ where: { id: 1 }, data: { enabled: false } });
    invalidateMessagingLimits();
    try {
      const error = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id }).catch((e: unknown) => e);
      expect(error).toMatchObject({ message: "Messaging is turned off by an administrator.", data: { code: "FORBIDDEN" } });
    } finally {
      await t.server.database.prisma.messagingSettings.update({ where: { id: 1 }, data: { enabled: true } });
      invalidateMessagingLimits();
    }
  });
});

describe("typing, presence and receipts", () => {
  it("sends typing to the other members only, throttled, with its expiry", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const anaEvents = collectEvents(ana.client);
    const benEvents = collectEvents(ben.client);
    await Promise.all([anaEvents.ready(), benEvents.ready()]);

    const before = Date.now();
    await ana.api.messages.typing.mutate({ conversationId: conversation.id, isTyping: true });
    await ana.api.messages.typing.mutate({ conversationId: conversation.id, isTyping: true });
    await ana.api.messages.typing.mutate({ conversationId: conversation.id, isTyping: false });
    await vi.waitFor(() => expect(benEvents.ofType("typing")).toHaveLength(2));
    const [started, stopped] = benEvents.ofType("typing");
    expect(started).toMatchObject({ userId: ana.user.id, isTyping: true, conversationId: conversation.id });
    expect(stopped).toMatchObject({ isTyping: false });
    const limits = await t.server.database.prisma.messagingSettings.findUniqueOrThrow({ where: { id: 1 } });
    const expiresIn = Date.parse(started!.expiresAt) - before;
    expect(expiresIn).toBeGreaterThanOrEqual(limits.typingIndicatorTimeout - 50);
    expect(expiresIn).toBeLessThanOrEqual(limits.typingIndicatorTimeout + 2_000);

    // A stop resets nothing: typing, stopped, typing... as fast as a script can
    // passes a "typing" on at most once per half second (every "stopped" goes on:
    // it may end one passed on by another instance).
    const burstStarted = Date.now();
    for (let i = 0; i < 10; i += 1) {
      await ana.api.messages.typing.mutate({ conversationId: conversation.id, isTyping: true });
      await ana.api.messages.typing.mutate({ conversationId: conversation.id, isTyping: false });
    }
    const burstMs = Date.now() - burstStarted;
    await vi.waitFor(() => expect(benEvents.ofType("typing").filter((event) => !event.isTyping)).toHaveLength(11));
    const startsPassedOn = benEvents.ofType("typing").filter((event) => event.isTyping).length - 1;
    expect(startsPassedOn).toBeGreaterThanOrEqual(0);
    expect(startsPassedOn).toBeLessThanOrEqual(Math.floor(burstMs / 500) + 1);
    expect(anaEvents.ofType("typing")).toHaveLength(0);
    anaEvents.stop();
    benEvents.stop();
  });

  it("shows a contact online, away when idle, and offline after their last connection", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const benEvents = collectEvents(ben.client);
    await benEvents.ready();
    const presenceOfAna = () => benEvents.ofType("presence").filter((e) => e.userId === ana.user.id).map((e) => e.status);

    const anaEvents = collectEvents(ana.client);
    await anaEvents.ready();
    await vi.waitFor(() => expect(presenceOfAna()).toEqual(["online"]));
    expect(await ben.api.presence.get.query({ userIds: [ana.user.id] })).toMatchObject([{ status: "online" }]);

    await ana.api.presence.set.mutate({ status: "idle" });
    await vi.waitFor(() => expect(presenceOfAna()).toEqual(["online", "away"]));

    anaEvents.stop();
    await vi.waitFor(() => expect(presenceOfAna()).toEqual(["online", "away", "offline"]));
    const [offline] = await ben.api.presence.get.query({ userIds: [ana.user.id] });
    expect(offline).toMatchObject({ status: "offline" });
    expect(offline!.lastSeenAt).toBeInstanceOf(Date);
    benEvents.stop();
  });

  it("tells the sender when a message was delivered and when it was read", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const anaEvents = collectEvents(ana.client);
    await anaEvents.ready();
    const message = await ana.api.messages.send.mutate({ conversationId: conversation.id, content: "did you get it?", clientMessageId: "r-1" });
    expect((await ana.api.messages.statuses.query({ messageId: message.id })).recipients).toMatchObject([
      { userId: ben.user.id, status: "SENT", deliveredAt: null, readAt: null },
    ]);

    const benEvents = collectEvents(ben.client);
    await benEvents.ready();
    await vi.waitFor(() =>
      expect(anaEvents.receipts()).toContainEqual(expect.objectContaining({ status: "DELIVERED", upToSeq: 1, userId: ben.user.id })),
    );
    const delivered = (await ana.api.messages.statuses.query({ messageId: message.id })).recipients[0];
    expect(delivered).toMatchObject({ status: "DELIVERED", readAt: null });
    expect(delivered!.deliveredAt).toBeInstanceOf(Date);

    await ben.api.conversations.markAsRead.mutate({ conversationId: conversation.id, upToSeq: 1 });
    await vi.waitFor(() => expect(anaEvents.receipts().some((e) => e.status === "READ")).toBe(true));
    const read = (await ana.api.messages.statuses.query({ messageId: message.id })).recipients[0];
    expect(read).toMatchObject({ status: "READ" });
    expect(read!.readAt).toBeInstanceOf(Date);
    expect(await codeOf(ben.api.messages.statuses.query({ messageId: message.id }))).toBe("FORBIDDEN");
    anaEvents.stop();
    benEvents.stop();
  });
});

describe("receipts in a group", () => {
  it("tell each sender every move of one commit in one event, however many members moved", async () => {
    const [ana, ben, cleo, dev] = await Promise.all(["Ana", "Ben", "Cleo", "Dev"].map((name) => person(name)));
    const group = await ana!.api.conversations.createGroup.mutate({
      name: "Busy receipts",
      participantIds: [ben!.user.id, cleo!.user.id, dev!.user.id],
    });
    const fromAna = await ana!.api.messages.send.mutate({ conversationId: group.id, content: "one", clientMessageId: "br-1" });
    const fromBen = await ben!.api.messages.send.mutate({ conversationId: group.id, content: "two", clientMessageId: "br-2" });
    const at = new Date();
    // What one flush of the delivery tracker writes: Cleo and Dev received both messages.
    const moves = [cleo!, dev!].map((member) => ({
      conversationId: group.id,
      userId: member.user.id,
      status: "DELIVERED" as const,
      previousSeq: fromAna.seq - 1,
      upToSeq: fromBen.seq,
      at,
    }));
    const events = await receiptEvents(t.server.database.prisma, moves);
    expect(events.map((e) => e.userId).sort()).toEqual([ana!.user.id, ben!.user.id].sort());
    for (const event of events) {
      expect(event).toMatchObject({ type: "receipts.updated", conversationId: group.id });
      expect((event.payload.receipts as { userId: string }[]).map((r) => r.userId).sort()).toEqual([cleo!.user.id, dev!.user.id].sort());
    }
  });

  it("go to the senders of the messages they cover and to the reader's own devices, not to everyone", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const cleo = await person("Cleo");
    const group = await ana.api.conversations.createGroup.mutate({ name: "Receipts", participantIds: [ben.user.id, cleo.user.id] });
    const anaEvents = collectEvents(ana.client);
    const benEvents = collectEvents(ben.client);
    const cleoOtherTab = collectEvents(await t.client({ userId: cleo.user.id, origin: TEST_APP_ORIGIN }));
    await Promise.all([anaEvents.ready(), benEvents.ready(), cleoOtherTab.ready()]);

    const message = await ana.api.messages.send.mutate({ conversationId: group.id, content: "seen?", clientMessageId: "gr-1" });
    await cleo.api.conversations.markAsRead.mutate({ conversationId: group.id, upToSeq: message.seq });

    await vi.waitFor(() =>
      expect(anaEvents.receipts()).toContainEqual(expect.objectContaining({ userId: cleo.user.id, status: "READ" })),
    );
    await vi.waitFor(() =>
      expect(cleoOtherTab.receipts()).toContainEqual(expect.objectContaining({ userId: cleo.user.id, status: "READ" })),
    );
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(benEvents.receipts().filter((e) => e.userId === cleo.user.id)).toEqual([]);
    const statuses = await ana.api.messages.statuses.query({ messageId: message.id });
    expect(statuses.recipients.find((r) => r.userId === cleo.user.id)).toMatchObject({ status: "READ" });
    anaEvents.stop();
    benEvents.stop();
    cleoOtherTab.stop();
  });
});

describe("membership over time", () => {
  it("replays a removed member's events up to the removal, and a re-added member's only from the return", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const group = await ana.api.conversations.createGroup.mutate({ name: "Comings", participantIds: [ben.user.id] });
    const cursor = await cursorOf(ben.client);

    await ana.api.messages.send.mutate({ conversationId: group.id, content: "while in", clientMessageId: "t-1" });
    await ana.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: ben.user.id });
    await ana.api.messages.send.mutate({ conversationId: group.id, content: "while out", clientMessageId: "t-2" });
    await ana.api.conversations.addParticipants.mutate({ conversationId: group.id, userIds: [ben.user.id] });
    await ana.api.messages.send.mutate({ conversationId: group.id, content: "back again", clientMessageId: "t-3" });

    const replay = collectEvents(ben.client, { lastEventId: cursor });
    await replay.ready();
    const seen = replay.events
      // Ben's bell is notifications.test.ts's subject; here the conversation's own events.
      .filter((e) => e.type !== "ready" && e.type !== "presence" && e.type !== "receipts.updated" && !e.type.startsWith("notification"))
      .map((e) => (e.type === "message.created" ? `message: ${e.message.content}` : e.type));
    expect(seen).toEqual([
      "message: while in",
      "message: Ana removed Ben",
      "conversation.member_removed",
      "conversation.members_added",
      "message: Ana added Ben",
      "message: back again",
    ]);
    // Returning members start with the history read.
    const view = await ben.api.conversations.get.query({ conversationId: group.id });
    expect(view.unreadCount).toBe(1);
    replay.stop();
  });

  it("tells a client whose cursor is older than what is kept to resync", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    for (let i = 1; i <= 3; i++) {
      await ana.api.messages.send.mutate({ conversationId: conversation.id, content: `old ${i}`, clientMessageId: `old-${i}` });
    }
    const newest = await t.server.database.prisma.event.findFirstOrThrow({ orderBy: { id: "desc" }, select: { id: true } });
    // What a retention sweep does: events before this point are gone.
    await t.server.database.prisma.event.deleteMany({ where: { id: { lt: newest.id } } });
    const stale = collectEvents(ben.client, { lastEventId: "1" });
    await vi.waitFor(() => expect(stale.errors).toHaveLength(1));
    expect(stale.errors[0]).toMatchObject({ message: "RESYNC_REQUIRED", data: { code: "PRECONDITION_FAILED" } });
  });
});

describe.runIf(Boolean(process.env.DATABASE_URL))("concurrent changes to one group (PostgreSQL)", () => {
  it("never deadlock and keep seqs gap-free", async () => {
    const people = await Promise.all(["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay"].map((name) => person(name)));
    const [ana, ben, cleo, dev, eli, fay] = people as [
      Awaited<ReturnType<typeof person>>,
      ...Awaited<ReturnType<typeof person>>[],
    ];
    const group = await ana.api.conversations.createGroup.mutate({
      name: "Busy",
      participantIds: [ben!.user.id, cleo!.user.id, dev!.user.id],
    });
    const listeners = [ben!, cleo!, dev!].map((p) => collectEvents(p.client));
    await Promise.all(listeners.map((l) => l.ready()));
    const work: Promise<unknown>[] = [];
    for (let round = 0; round < 8; round++) {
      work.push(ana.api.messages.send.mutate({ conversationId: group.id, content: `a${round}`, clientMessageId: `busy-a-${round}` }));
      work.push(ben!.api.messages.send.mutate({ conversationId: group.id, content: `b${round}`, clientMessageId: `busy-b-${round}` }));
      work.push(cleo!.api.conversations.markAsRead.mutate({ conversationId: group.id, upToSeq: 1000 }));
      work.push(dev!.api.conversations.markAsRead.mutate({ conversationId: group.id, upToSeq: 1000 }));
      const newcomer = round % 2 === 0 ? eli! : fay!;
      work.push(
        ana.api.conversations.addParticipants
          .mutate({ conversationId: group.id, userIds: [newcomer.user.id] })
          .then(() => ana.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: newcomer.user.id }))
          .catch((error: { data?: { code?: string } }) => {
            // Two rounds may race over the same newcomer: "not a member" is a fair answer, a deadlock is not.
            if (error.data?.code !== "NOT_FOUND") throw error;
          }),
      );
    }
    const outcomes = await Promise.allSettled(work);
    expect(outcomes.filter((o) => o.status === "rejected").map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    const seqs = (await t.server.database.prisma.message.findMany({ where: { conversationId: group.id }, select: { seq: true }, orderBy: { seq: "asc" } })).map(
      (m) => m.seq,
    );
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    for (const l of listeners) l.stop();
  }, 60_000);
});
