import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notificationRuntime } from "~/features/notifications/runtime";
import { appRouter } from "~/server/trpc/root";
import type { NodeTrpcClient } from "~/trpc/node-client";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// Every procedure that names a conversation or a message must refuse someone who
// is not a member. The table lists every procedure of the router: one added
// without an entry here fails the coverage test, so it cannot ship unchecked.

type Ids = { conversationId: string; messageId: string; memberId: string };
type Call = (api: NodeTrpcClient["api"], ids: Ids) => Promise<unknown>;

const takesNoId = "takes no conversation or message id";

const table: Record<string, Call | typeof takesNoId> = {
  "auth.signUp": takesNoId,
  "auth.me": takesNoId,
  "users.search": takesNoId,
  "events.onEvent": takesNoId,
  "conversations.createDirect": takesNoId,
  "conversations.createGroup": takesNoId,
  "conversations.list": takesNoId,
  "conversations.unreadCount": takesNoId,
  "conversations.search": takesNoId,
  "conversations.get": (api, ids) => api.conversations.get.query({ conversationId: ids.conversationId }),
  "conversations.addParticipants": (api, ids) =>
    api.conversations.addParticipants.mutate({ conversationId: ids.conversationId, userIds: [ids.memberId] }),
  "conversations.removeParticipant": (api, ids) =>
    api.conversations.removeParticipant.mutate({ conversationId: ids.conversationId, userId: ids.memberId }),
  "conversations.markAsRead": (api, ids) => api.conversations.markAsRead.mutate({ conversationId: ids.conversationId, upToSeq: 1 }),
  "conversations.setMuted": (api, ids) => api.conversations.setMuted.mutate({ conversationId: ids.conversationId, muted: true }),
  "messages.send": (api, ids) =>
    api.messages.send.mutate({ conversationId: ids.conversationId, content: "let me in", clientMessageId: "intruder-1" }),
  "messages.list": (api, ids) => api.messages.list.query({ conversationId: ids.conversationId }),
  // Without a conversation it searches only the caller's own (search.test.ts proves that).
  "messages.search": (api, ids) => api.messages.search.query({ query: "hello", conversationId: ids.conversationId }),
  "messages.edit": (api, ids) => api.messages.edit.mutate({ messageId: ids.messageId, content: "changed" }),
  "messages.delete": (api, ids) => api.messages.delete.mutate({ messageId: ids.messageId }),
  "messages.react": (api, ids) => api.messages.react.mutate({ messageId: ids.messageId, emoji: "👀" }),
  "messages.statuses": (api, ids) => api.messages.statuses.query({ messageId: ids.messageId }),
  "messages.typing": (api, ids) => api.messages.typing.mutate({ conversationId: ids.conversationId, isTyping: true }),
  // Presence is not a conversation's: any signed-in user may see it (as in a workspace directory).
  "presence.get": takesNoId,
  "presence.set": takesNoId,
  // Settings, the audit log, operations and roles are the installation's, not a
  // conversation's: who may call them (per role and per single permission) is proved
  // in permissions-table.test.ts. audit.list may name a conversation: moderators
  // (messaging:admin) read any conversation's audit trail, which holds no message content.
  "settings.public": takesNoId,
  "settings.get": takesNoId,
  "settings.update": takesNoId,
  "settings.history": takesNoId,
  "audit.list": takesNoId,
  "audit.actions": takesNoId,
  "admin.status": takesNoId,
  "admin.retentionPreview": takesNoId,
  // A person's own notifications: an id of someone else's is NOT_FOUND (notifications.test.ts).
  "notifications.list": takesNoId,
  "notifications.unreadCount": takesNoId,
  "notifications.markRead": takesNoId,
  "notifications.markAllRead": takesNoId,
  "notifications.delete": takesNoId,
  "notifications.preferences.get": takesNoId,
  "notifications.preferences.update": takesNoId,
  "notifications.push.subscribe": takesNoId,
  "notifications.push.unsubscribe": takesNoId,
  "notifications.audienceRoles": takesNoId,
  "notifications.sendSystem": takesNoId,
  "roles.list": takesNoId,
  "roles.setPermissions": takesNoId,
  "roles.users": takesNoId,
  "roles.setUserRoles": takesNoId,
};

let t: TestServer;
let ids: Ids;
let outsider: NodeTrpcClient;
let formerMember: NodeTrpcClient;

beforeAll(async () => {
  t = await startTestServer();
  const [ana, ben, eve, finn] = await Promise.all(
    ["Ana", "Ben", "Eve", "Finn"].map((name) => t.createUser({ name })),
  );
  const anaClient = await t.client({ userId: ana!.id, origin: TEST_APP_ORIGIN });
  const group = await anaClient.api.conversations.createGroup.mutate({ name: "Private", participantIds: [ben!.id, finn!.id] });
  await anaClient.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: finn!.id });
  formerMember = await t.client({ userId: finn!.id, origin: TEST_APP_ORIGIN });
  const message = await anaClient.api.messages.send.mutate({ conversationId: group.id, content: "members only", clientMessageId: "a-1" });
  ids = { conversationId: group.id, messageId: message.id, memberId: ben!.id };
  outsider = await t.client({ userId: eve!.id, origin: TEST_APP_ORIGIN });
  // The members' notifications of that message are events too: written before the first "before".
  await notificationRuntime()!.notifier.drain();
});
afterAll(async () => {
  await t?.close();
});

describe("authorization of every procedure", () => {
  it("the table covers every procedure of the router", () => {
    expect(Object.keys(appRouter._def.procedures).sort()).toEqual(Object.keys(table).sort());
  });

  const withIds = Object.entries(table).filter((entry): entry is [string, Call] => typeof entry[1] === "function");
  async function state() {
    const prisma = t.server.database.prisma;
    return {
      messages: await prisma.message.count(),
      events: await prisma.event.count(),
      participants: await prisma.conversationParticipant.findMany({
        where: { conversationId: ids.conversationId },
        select: { userId: true, leftAt: true, lastReadSeq: true, muted: true },
        orderBy: { userId: "asc" },
      }),
    };
  }

  it.each(withIds)("%s refuses a non-member and a former member, and changes nothing", async (_path, call) => {
    const before = await state();
    for (const stranger of [outsider, formerMember]) {
      const outcome = await call(stranger.api, ids).then(
        () => "allowed",
        (error: { data?: { code?: string } }) => error.data?.code,
      );
      expect(["NOT_FOUND", "FORBIDDEN"]).toContain(outcome);
    }
    expect(await state()).toEqual(before);
  });

  it("leaves the conversation untouched", async () => {
    const message = await t.server.database.prisma.message.findUniqueOrThrow({ where: { id: ids.messageId } });
    expect(message).toMatchObject({ content: "members only", editedAt: null, deletedAt: null });
    expect(await t.server.database.prisma.reaction.count({ where: { messageId: ids.messageId } })).toBe(0);
    expect(await t.server.database.prisma.conversationParticipant.count({ where: { conversationId: ids.conversationId, leftAt: null } })).toBe(2);
    expect(await t.server.database.prisma.reaction.count()).toBe(0);
  });
});
