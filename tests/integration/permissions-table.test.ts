import { randomUUID } from "node:crypto";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ROLE_PERMISSIONS, PERMISSIONS, ROLES, type PermissionKey } from "~/features/permissions/catalog";
import type { MessagingSettings } from "~/generated/prisma/client";
import { appRouter } from "~/server/trpc/root";
import type { NodeTrpcClient } from "~/trpc/node-client";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// Who may call each procedure. The table states, for every procedure of the router,
// what it needs: nothing ("public"), a session ("signed in") or one permission.
// Each procedure is called by every caller below; what each caller must get
// (allowed, UNAUTHORIZED, or FORBIDDEN naming the permission) is derived from the
// declared access and the caller's permissions, and compared with what it got.
// The callers include, for every permission, a custom role holding only it and
// one holding all the others: the permission grants the call, not a role's name.
// A procedure added without an entry fails the coverage test. (Who may act on a
// given conversation or message: authorization.test.ts.)

const ALL_PERMISSIONS = Object.values(PERMISSIONS);

type Access = "public" | "signed in" | PermissionKey;
type Api = NodeTrpcClient["api"];

/** What a caller's calls may name: its own group (where it is the creator), messages it sent, other people. */
interface Fixture {
  conversationId: string;
  messageId: string;
  /** A message of its own that messages.delete may remove. */
  spareMessageId: string;
  /** A member of the group, also the one whose roles roles.setUserRoles sets (to what they are). */
  peerId: string;
  /** A member of the group that conversations.removeParticipant may remove. */
  extraId: string;
  userRoleId: string;
  settings: MessagingSettings;
}

interface Entry {
  access: Access;
  /** Inputs that are valid where that is cheap, and harmless: calls of one procedure repeat, and the settings and roles stay as they are. */
  call: (api: Api, fixture: Fixture) => Promise<unknown>;
}

/** events.onEvent over the caller's WebSocket: resolves at the first event (`ready`), rejects with the refusal. */
function firstEvent(api: Api): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const subscription = api.events.onEvent.subscribe(null, {
      onData: (event) => {
        subscription.unsubscribe();
        resolve(event);
      },
      onError: (error) => {
        subscription.unsubscribe();
        reject(error);
      },
    });
  });
}

/** A refusal with `code` that only a caller who passed the session and permission checks can get. */
function passedTheGate(code: string) {
  return (error: unknown) => {
    if (error instanceof TRPCClientError && (error.data as { code?: string } | undefined)?.code === code) return undefined;
    throw error;
  };
}

const table: Record<string, Entry> = {
  // A password too short: BAD_REQUEST, from the input check, which runs after the
  // middlewares (so a procedure that needed a session would answer UNAUTHORIZED
  // first). No account, no password hashing, no sign-up attempt counted. Signing
  // up itself: auth.test.ts.
  "auth.signUp": {
    access: "public",
    call: (api) => api.auth.signUp.mutate({ email: "table@example.com", name: "Table", password: "short" }),
  },
  "auth.me": { access: "signed in", call: (api) => api.auth.me.query() },

  "users.search": { access: PERMISSIONS.messagingAccess, call: (api) => api.users.search.query({ query: "Peer" }) },

  "events.onEvent": { access: PERMISSIONS.messagingAccess, call: (api) => firstEvent(api) },

  "conversations.createDirect": {
    access: PERMISSIONS.messagingAccess,
    call: (api, f) => api.conversations.createDirect.mutate({ recipientId: f.peerId }),
  },
  "conversations.createGroup": {
    access: PERMISSIONS.messagingAccess,
    call: (api, f) => api.conversations.createGroup.mutate({ name: "Another group", participantIds: [f.peerId] }),
  },
  "conversations.list": { access: PERMISSIONS.messagingAccess, call: (api) => api.conversations.list.query() },
  "conversations.get": {
    access: PERMISSIONS.messagingAccess,
    call: (api, f) => api.conversations.get.query({ conversationId: f.conversationId }),
  },
  "conversations.search": { access: PERMISSIONS.messagingAccess, call: (api) => api.conversations.search.query({ query: "group" }) },
  "conversations.addParticipants": {
    access: PERMISSIONS.messagingAccess,
    call: (api, f) => api.conversations.addParticipants.mutate({ conversationId: f.conversationId, userIds: [f.peerId] }),
  },
  "conversations.removeParticipant": {
    access: PERMISSIONS.messagingAccess,
    call: (api, f) => api.conversations.removeParticipant.mutate({ conversationId: f.conversationId, userId: f.extraId }),
  },
  "conversations.markAsRead": {
    access: PERMISSIONS.messagingAccess,
    call: (api, f) => api.conversations.markAsRead.mutate({ conversationId: f.conversationId, upToSeq: 1 }),
  },
  "conversations.unreadCount": { access: PERMISSIONS.messagingAccess, call: (api) => api.conversations.unreadCount.query() },
  "conversations.setMuted": {
    access: PERMISSIONS.messagingAccess,
    call: (api, f) => api.conversations.setMuted.mutate({ conversationId: f.conversationId, muted: false }),
  },

  "messages.send": {
    access: PERMISSIONS.messagingAccess,
    call: (api, f) => api.messages.send.mutate({ conversationId: f.conversationId, content: "one more", clientMessageId: randomUUID() }),
  },
  "messages.list": { access: PERMISSIONS.messagingAccess, call: (api, f) => api.messages.list.query({ conversationId: f.conversationId }) },
  "messages.search": { access: PERMISSIONS.messagingAccess, call: (api) => api.messages.search.query({ query: "hello" }) },
  "messages.edit": {
    access: PERMISSIONS.messagingAccess,
    call: (api, f) => api.messages.edit.mutate({ messageId: f.messageId, content: "edited" }),
  },
  "messages.delete": { access: PERMISSIONS.messagingAccess, call: (api, f) => api.messages.delete.mutate({ messageId: f.spareMessageId }) },
  "messages.react": { access: PERMISSIONS.messagingAccess, call: (api, f) => api.messages.react.mutate({ messageId: f.messageId, emoji: "👍" }) },
  "messages.statuses": { access: PERMISSIONS.messagingAccess, call: (api, f) => api.messages.statuses.query({ messageId: f.messageId }) },
  "messages.typing": {
    access: PERMISSIONS.messagingAccess,
    call: (api, f) => api.messages.typing.mutate({ conversationId: f.conversationId, isTyping: false }),
  },

  "presence.get": { access: PERMISSIONS.messagingAccess, call: (api, f) => api.presence.get.query({ userIds: [f.peerId] }) },
  "presence.set": { access: PERMISSIONS.messagingAccess, call: (api) => api.presence.set.mutate({ status: "active" }) },

  "settings.public": { access: "signed in", call: (api) => api.settings.public.query() },
  "settings.get": { access: PERMISSIONS.messagingSettingsRead, call: (api) => api.settings.get.query() },
  // The current value: an allowed call changes nothing (checked at the end).
  "settings.update": {
    access: PERMISSIONS.messagingSettingsWrite,
    call: (api, f) => api.settings.update.mutate({ maxMessageLength: f.settings.maxMessageLength }),
  },
  "settings.history": { access: PERMISSIONS.messagingSettingsRead, call: (api) => api.settings.history.query({}) },

  "audit.list": { access: PERMISSIONS.messagingAdmin, call: (api) => api.audit.list.query({}) },
  "audit.actions": { access: PERMISSIONS.messagingAdmin, call: (api) => api.audit.actions.query() },

  "admin.status": { access: PERMISSIONS.messagingAdmin, call: (api) => api.admin.status.query() },
  "admin.retentionPreview": { access: PERMISSIONS.messagingAdmin, call: (api) => api.admin.retentionPreview.query() },

  // The bell is everyone's who is signed in; an id of nobody's is NOT_FOUND, and push
  // without the server's keys PRECONDITION_FAILED, only after the session was accepted.
  "notifications.list": { access: "signed in", call: (api) => api.notifications.list.query({}) },
  "notifications.unreadCount": { access: "signed in", call: (api) => api.notifications.unreadCount.query() },
  "notifications.markRead": { access: "signed in", call: (api) => api.notifications.markRead.mutate({ ids: [randomUUID()] }) },
  "notifications.markAllRead": { access: "signed in", call: (api) => api.notifications.markAllRead.mutate() },
  "notifications.delete": {
    access: "signed in",
    call: (api) => api.notifications.delete.mutate({ id: randomUUID() }).catch(passedTheGate("NOT_FOUND")),
  },
  "notifications.preferences.get": { access: "signed in", call: (api) => api.notifications.preferences.get.query() },
  "notifications.preferences.update": {
    access: "signed in",
    call: (api) => api.notifications.preferences.update.mutate({ categories: { SYSTEM: { push: true } } }),
  },
  "notifications.push.subscribe": {
    access: "signed in",
    call: (api) =>
      api.notifications.push.subscribe
        .mutate({ endpoint: "https://push.example.com/table", keys: { p256dh: "B".repeat(87), auth: "A".repeat(22) } })
        .catch(passedTheGate("PRECONDITION_FAILED")),
  },
  "notifications.push.unsubscribe": {
    access: "signed in",
    call: (api) => api.notifications.push.unsubscribe.mutate({ endpoint: "https://push.example.com/table" }),
  },
  "notifications.audienceRoles": { access: PERMISSIONS.messagingAdmin, call: (api) => api.notifications.audienceRoles.query() },
  "notifications.sendSystem": {
    access: PERMISSIONS.messagingAdmin,
    call: (api, f) =>
      api.notifications.sendSystem.mutate({ title: "Table check", audience: { kind: "role", roleId: f.userRoleId } }),
  },

  "roles.list": { access: PERMISSIONS.rolesManage, call: (api) => api.roles.list.query() },
  "roles.users": { access: PERMISSIONS.rolesManage, call: (api) => api.roles.users.query({}) },
  // Unchanged sets: an allowed call changes nothing (checked at the end).
  "roles.setPermissions": {
    access: PERMISSIONS.rolesManage,
    call: (api, f) =>
      api.roles.setPermissions.mutate({ roleId: f.userRoleId, permissionKeys: DEFAULT_ROLE_PERMISSIONS.User.permissions }),
  },
  "roles.setUserRoles": {
    access: PERMISSIONS.rolesManage,
    call: (api, f) => api.roles.setUserRoles.mutate({ userId: f.peerId, roleIds: [f.userRoleId] }),
  },
};

/** Who calls: signed out, the three seeded roles, no role at all, and for each permission "only it" and "all but it". */
interface Caller {
  label: string;
  /** null: no session. */
  permissions: readonly PermissionKey[] | null;
  /**
   * A seeded role, or one role made for this test holding exactly `custom` (empty:
   * the user has no role at all); null: no user.
   */
  roles: { seeded: (typeof ROLES)[keyof typeof ROLES] } | { custom: PermissionKey[] } | null;
}

const callers: Caller[] = [
  { label: "signed out", permissions: null, roles: null },
  ...Object.values(ROLES).map((role) => ({ label: role, permissions: DEFAULT_ROLE_PERMISSIONS[role].permissions, roles: { seeded: role } })),
  { label: "no role", permissions: [], roles: { custom: [] } },
  ...ALL_PERMISSIONS.flatMap((permission) => {
    const allBut = ALL_PERMISSIONS.filter((key) => key !== permission);
    return [
      { label: `only ${permission}`, permissions: [permission], roles: { custom: [permission] } },
      { label: `all but ${permission}`, permissions: allBut, roles: { custom: allBut } },
    ];
  }),
];

type Outcome = "allowed" | "UNAUTHORIZED" | `FORBIDDEN (needs ${string})` | `FORBIDDEN: ${string}` | `${"INTERNAL_SERVER_ERROR" | "TOO_MANY_REQUESTS"}: ${string}`;

/** What a caller must get from a procedure that needs `access`. */
function expectedOutcome(access: Access, permissions: readonly PermissionKey[] | null): Outcome {
  if (access === "public") return "allowed";
  if (permissions === null) return "UNAUTHORIZED";
  if (access === "signed in" || permissions.includes(access)) return "allowed";
  return `FORBIDDEN (needs ${access})`;
}

/**
 * What the call got. Any answer past the authorization (a result, or NOT_FOUND,
 * CONFLICT, BAD_REQUEST... from the input) counts as allowed. A refusal by the
 * permission middleware names the permission it wanted.
 */
async function outcomeOf(call: Promise<unknown>): Promise<Outcome> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    const code = (error.data as { code?: string } | undefined)?.code;
    if (code === "UNAUTHORIZED") return "UNAUTHORIZED";
    if (code === "FORBIDDEN") {
      const named = ALL_PERMISSIONS.find((key) => error.message.includes(`"${key}"`));
      return named ? `FORBIDDEN (needs ${named})` : `FORBIDDEN: ${error.message}`;
    }
    // A crash or a limit is no proof of being let in: it shows up as a mismatch.
    if (code === "INTERNAL_SERVER_ERROR" || code === "TOO_MANY_REQUESTS") return `${code}: ${error.message}`;
  }
  return "allowed";
}

let t: TestServer;
const clients = new Map<string, { api: Api; fixture: Fixture }>();

/** What the harmless calls must leave as it was. */
async function guardedState() {
  const prisma = t.server.database.prisma;
  return {
    users: await prisma.user.count(),
    settings: await prisma.messagingSettings.findUniqueOrThrow({ where: { id: 1 } }),
    rolePermissions: await prisma.rolePermission.findMany({ orderBy: [{ roleId: "asc" }, { permissionId: "asc" }] }),
    userRoles: await prisma.userRole.findMany({ orderBy: [{ userId: "asc" }, { roleId: "asc" }] }),
    roleAudits: await prisma.auditLog.count({ where: { action: { in: ["role.permissions_changed", "user.roles_changed"] } } }),
    settingsAudits: await prisma.auditLog.count({ where: { action: "settings.updated" } }),
  };
}
let stateBefore: Awaited<ReturnType<typeof guardedState>>;

/** The caller's user (none when signed out), with its roles. */
async function userOf(caller: Caller): Promise<string | undefined> {
  if (!caller.roles) return undefined;
  if ("seeded" in caller.roles) return (await t.createUser({ name: caller.label, roles: [caller.roles.seeded] })).id;
  const user = await t.createUser({ name: caller.label, roles: [] });
  if (caller.roles.custom.length > 0) {
    await t.server.database.prisma.role.create({
      data: {
        name: `Test: ${caller.label}`,
        permissions: { create: caller.roles.custom.map((key) => ({ permission: { connect: { key } } })) },
        users: { create: { userId: user.id } },
      },
    });
  }
  return user.id;
}

beforeAll(async () => {
  t = await startTestServer();
  const prisma = t.server.database.prisma;
  const settings = await prisma.messagingSettings.findUniqueOrThrow({ where: { id: 1 } });
  const [peer, extra] = await Promise.all([t.createUser({ name: "Peer" }), t.createUser({ name: "Extra" })]);
  const userRole = await prisma.role.findUniqueOrThrow({ where: { name: ROLES.user } });

  // Each caller's user, role and fixture, all at once.
  await Promise.all(
    callers.map(async (caller) => {
      const userId = await userOf(caller);
      const { api } = await t.client({ userId, origin: TEST_APP_ORIGIN });
      const fixture: Fixture = {
        conversationId: randomUUID(),
        messageId: randomUUID(),
        spareMessageId: randomUUID(),
        peerId: peer.id,
        extraId: extra.id,
        userRoleId: userRole.id,
        settings,
      };
      // Those who may use messaging get a group of their own (they created it) with messages
      // they sent; the others name ids that exist nowhere (their calls are refused before any look-up).
      if (caller.permissions?.includes(PERMISSIONS.messagingAccess)) {
        const group = await api.conversations.createGroup.mutate({ name: `${caller.label}'s group`, participantIds: [peer.id, extra.id] });
        const send = (content: string) => api.messages.send.mutate({ conversationId: group.id, content, clientMessageId: randomUUID() });
        fixture.conversationId = group.id;
        fixture.messageId = (await send("mine")).id;
        fixture.spareMessageId = (await send("mine to delete")).id;
      }
      clients.set(caller.label, { api, fixture });
    }),
  );
  stateBefore = await guardedState();
  // Fifteen users and their fixtures on top of a server start: more than most files set up.
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe("the permission each procedure needs", () => {
  it("the table covers every procedure of the router", () => {
    expect(Object.keys(table).sort()).toEqual(Object.keys(appRouter._def.procedures).sort());
  });

  it("the callers' roles hold exactly the permissions the expectations assume", async () => {
    for (const caller of callers) {
      if (caller.permissions === null) continue;
      const { api } = clients.get(caller.label)!;
      expect((await api.auth.me.query()).permissions, caller.label).toEqual([...caller.permissions].sort());
    }
  });

  it.each(Object.entries(table).map(([path, entry]) => [path, entry.access, entry] as const))("%s needs %s", async (_path, _access, entry) => {
    const expected = Object.fromEntries(callers.map((caller) => [caller.label, expectedOutcome(entry.access, caller.permissions)]));
    const actual = Object.fromEntries(
      await Promise.all(
        callers.map(async (caller) => {
          const { api, fixture } = clients.get(caller.label)!;
          return [caller.label, await outcomeOf(entry.call(api, fixture))] as const;
        }),
      ),
    );
    expect(actual).toEqual(expected);
  });

  it("the allowed calls changed no setting, no role, no one's roles, and made no account", async () => {
    expect(await guardedState()).toEqual(stateBefore);
  });
});
