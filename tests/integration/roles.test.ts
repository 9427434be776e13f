import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ROLE_PERMISSIONS, PERMISSIONS, ROLES, type RoleName } from "~/features/permissions/catalog";
import { LAST_SUPER_ADMIN_MESSAGE, SUPER_ADMIN_KEEPS_ROLES_MANAGE_MESSAGE } from "~/features/roles/contracts";
import type { NodeTrpcClient } from "~/trpc/node-client";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";
import { codeOf } from "../helpers/error-code";

// roles.* (roles:manage): roles' permissions and users' roles, the guard rails that
// keep someone able to manage roles, the audit entries, and the effect of a change
// on the affected user's very next request (permissions are read from the database
// per request; the cookie carries only the user id). Also the moderation powers of
// messaging:admin.

let t: TestServer;
let sam: { id: string; name: string; email: string };
let ben: { id: string; name: string; email: string };
let superAdmin: NodeTrpcClient;
let admin: NodeTrpcClient;
let plain: NodeTrpcClient;
let anonymous: NodeTrpcClient;
let roleIds: Record<RoleName, string>;

beforeAll(async () => {
  t = await startTestServer();
  const [samUser, ada, benUser] = await Promise.all([
    t.createUser({ name: "Sam Super", roles: ["User", "Super Admin"] }),
    t.createUser({ name: "Ada Admin", roles: ["User", "Admin"] }),
    t.createUser({ name: "Ben Plain", roles: ["User"] }),
  ]);
  sam = samUser;
  ben = benUser;
  superAdmin = await t.client({ userId: sam.id, origin: TEST_APP_ORIGIN });
  admin = await t.client({ userId: ada!.id, origin: TEST_APP_ORIGIN });
  plain = await t.client({ userId: ben.id, origin: TEST_APP_ORIGIN });
  anonymous = await t.client({ origin: TEST_APP_ORIGIN });
  const roles = await t.server.database.prisma.role.findMany({ select: { id: true, name: true } });
  roleIds = Object.fromEntries(roles.map((role) => [role.name, role.id])) as Record<RoleName, string>;
});
afterAll(async () => {
  await t?.close();
});

async function messageOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return error.message;
    throw error;
  }
  return "allowed";
}

async function auditRows(action: string) {
  return t.server.database.prisma.auditLog.findMany({ where: { action }, orderBy: { id: "asc" } });
}

describe("who may call roles.*", () => {
  const calls: Record<string, (api: NodeTrpcClient["api"]) => Promise<unknown>> = {
    "roles.list": (api) => api.roles.list.query(),
    "roles.users": (api) => api.roles.users.query({}),
    // Unchanged sets: allowed calls change nothing.
    "roles.setPermissions": (api) =>
      api.roles.setPermissions.mutate({ roleId: roleIds.User, permissionKeys: DEFAULT_ROLE_PERMISSIONS.User.permissions }),
    "roles.setUserRoles": (api) => api.roles.setUserRoles.mutate({ userId: ben.id, roleIds: [roleIds.User] }),
  };

  it.each(Object.entries(calls))("%s: Super Admin only (User and Admin refused, signed out refused)", async (_path, call) => {
    expect(await codeOf(call(anonymous.api))).toBe("UNAUTHORIZED");
    expect(await codeOf(call(plain.api))).toBe("FORBIDDEN");
    expect(await codeOf(call(admin.api))).toBe("FORBIDDEN");
    expect(await codeOf(call(superAdmin.api))).toBe("allowed");
  });

  it("the seeded roles hold the catalogue's permissions; only Super Admin holds roles:manage", async () => {
    const { roles, permissions } = await superAdmin.api.roles.list.query();
    expect(permissions.map((permission) => permission.key)).toEqual(Object.values(PERMISSIONS).sort());
    for (const name of Object.values(ROLES)) {
      const role = roles.find((r) => r.name === name);
      expect(role?.permissions, name).toEqual([...DEFAULT_ROLE_PERMISSIONS[name].permissions].sort());
    }
    expect(roles.filter((role) => role.permissions.includes(PERMISSIONS.rolesManage)).map((role) => role.name)).toEqual([
      ROLES.superAdmin,
    ]);
    const counts = Object.fromEntries(roles.map((role) => [role.name, role.memberCount]));
    expect(counts).toMatchObject({ User: 3, Admin: 1, "Super Admin": 1 });
  });
});

describe("roles.setPermissions", () => {
  it("changes a role's permissions, audited with before and after, in effect on its members' next request", async () => {
    expect(await codeOf(plain.api.audit.actions.query())).toBe("FORBIDDEN");
    const before = [...DEFAULT_ROLE_PERMISSIONS.User.permissions].sort();
    const granted = [...before, PERMISSIONS.messagingAdmin].sort();
    const result = await superAdmin.api.roles.setPermissions.mutate({ roleId: roleIds.User, permissionKeys: granted });
    expect(result.roles.find((role) => role.name === ROLES.user)?.permissions).toEqual(granted);
    // Same cookie, no new sign-in: the next request already has it.
    expect(await codeOf(plain.api.audit.actions.query())).toBe("allowed");
    expect((await plain.api.auth.me.query()).permissions).toContain(PERMISSIONS.messagingAdmin);

    // Unchanged: nothing written.
    await superAdmin.api.roles.setPermissions.mutate({ roleId: roleIds.User, permissionKeys: [...granted].reverse() });
    await superAdmin.api.roles.setPermissions.mutate({ roleId: roleIds.User, permissionKeys: before });
    expect(await codeOf(plain.api.audit.actions.query())).toBe("FORBIDDEN");

    const rows = await auditRows("role.permissions_changed");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      actorId: sam.id,
      targetType: "role",
      targetId: roleIds.User,
      metadata: { role: "User", before, after: granted, added: [PERMISSIONS.messagingAdmin], removed: [] },
    });
    expect(rows[0]!.ip).toBeTruthy();
    expect(rows[1]).toMatchObject({ metadata: { before: granted, after: before, added: [], removed: [PERMISSIONS.messagingAdmin] } });
  });

  it("the Super Admin role cannot lose roles:manage", async () => {
    const auditBefore = (await auditRows("role.permissions_changed")).length;
    const call = superAdmin.api.roles.setPermissions.mutate({
      roleId: roleIds["Super Admin"],
      permissionKeys: [PERMISSIONS.messagingAccess],
    });
    expect(await messageOf(call)).toBe(SUPER_ADMIN_KEEPS_ROLES_MANAGE_MESSAGE);
    expect(
      await codeOf(superAdmin.api.roles.setPermissions.mutate({ roleId: roleIds["Super Admin"], permissionKeys: [] })),
    ).toBe("CONFLICT");
    const { roles } = await superAdmin.api.roles.list.query();
    expect(roles.find((role) => role.name === ROLES.superAdmin)?.permissions).toEqual(
      [...DEFAULT_ROLE_PERMISSIONS["Super Admin"].permissions].sort(),
    );
    expect(await auditRows("role.permissions_changed")).toHaveLength(auditBefore);
  });

  it("refuses an unknown permission or role", async () => {
    expect(
      await codeOf(superAdmin.api.roles.setPermissions.mutate({ roleId: roleIds.User, permissionKeys: ["messaging:everything"] })),
    ).toBe("BAD_REQUEST");
    expect(
      await codeOf(
        superAdmin.api.roles.setPermissions.mutate({ roleId: "00000000-0000-4000-8000-000000000000", permissionKeys: [] }),
      ),
    ).toBe("NOT_FOUND");
  });
});

describe("roles.users and roles.setUserRoles", () => {
  it("searches users by part of a name or email, with their roles, a page at a time", async () => {
    expect((await superAdmin.api.roles.users.query({ query: "nobody-by-that-name" })).items).toEqual([]);
    const byName = await superAdmin.api.roles.users.query({ query: "PLAIN" });
    expect(byName.items).toEqual([{ id: ben.id, name: ben.name, email: ben.email, disabled: false, roles: [{ id: roleIds.User, name: "User" }] }]);
    const byEmail = await superAdmin.api.roles.users.query({ query: sam.email.slice(0, 8) });
    expect(byEmail.items.map((user) => user.id)).toContain(sam.id);

    const all = await superAdmin.api.roles.users.query({ limit: 100 });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof superAdmin.api.roles.users.query>> = await superAdmin.api.roles.users.query({ limit: 2, cursor });
      seen.push(...page.items.map((user) => user.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.items.map((user) => user.id));
    expect(new Set(seen).size).toBe(all.items.length);
  });

  it("grants and takes back a role, audited, in effect on the user's next request without a new sign-in", async () => {
    expect(await codeOf(plain.api.settings.get.query())).toBe("FORBIDDEN");
    const granted = await superAdmin.api.roles.setUserRoles.mutate({ userId: ben.id, roleIds: [roleIds.User, roleIds.Admin] });
    expect(granted.roles.map((role) => role.name)).toEqual(["Admin", "User"]);
    expect(await codeOf(plain.api.settings.get.query())).toBe("allowed");
    expect(await codeOf(plain.api.roles.list.query())).toBe("FORBIDDEN");

    await superAdmin.api.roles.setUserRoles.mutate({ userId: ben.id, roleIds: [roleIds.User] });
    expect(await codeOf(plain.api.settings.get.query())).toBe("FORBIDDEN");

    const rows = await auditRows("user.roles_changed");
    expect(rows.map((row) => row.metadata)).toEqual([
      { before: ["User"], after: ["Admin", "User"], added: ["Admin"], removed: [] },
      { before: ["Admin", "User"], after: ["User"], added: [], removed: ["Admin"] },
    ]);
    expect(rows[0]).toMatchObject({ actorId: sam.id, targetType: "user", targetId: ben.id });
  });

  it("a user with no role at all loses messaging at once", async () => {
    await superAdmin.api.roles.setUserRoles.mutate({ userId: ben.id, roleIds: [] });
    expect(await codeOf(plain.api.conversations.list.query({}))).toBe("FORBIDDEN");
    await superAdmin.api.roles.setUserRoles.mutate({ userId: ben.id, roleIds: [roleIds.User] });
    expect(await codeOf(plain.api.conversations.list.query({}))).toBe("allowed");
  });

  it("the last enabled Super Admin cannot lose the role; another one can", async () => {
    const prisma = t.server.database.prisma;
    const sue = await t.createUser({ name: "Sue Super", roles: ["User", "Super Admin"] });
    // A disabled Super Admin manages nothing: it does not count.
    const dora = await t.createUser({ name: "Dora Disabled", roles: ["Super Admin"] });
    await prisma.user.update({ where: { id: dora.id }, data: { disabledAt: new Date() } });

    await superAdmin.api.roles.setUserRoles.mutate({ userId: sue.id, roleIds: [roleIds.User] });
    const auditBefore = (await auditRows("user.roles_changed")).length;
    const demoteSelf = superAdmin.api.roles.setUserRoles.mutate({ userId: sam.id, roleIds: [roleIds.User] });
    expect(await messageOf(demoteSelf)).toBe(LAST_SUPER_ADMIN_MESSAGE);
    expect(await codeOf(superAdmin.api.roles.setUserRoles.mutate({ userId: sam.id, roleIds: [] }))).toBe("CONFLICT");
    expect(await auditRows("user.roles_changed")).toHaveLength(auditBefore);
    expect(await codeOf(superAdmin.api.roles.list.query())).toBe("allowed");

    // With Sue back as a Super Admin, Sam may step down, and is refused at his next request.
    await superAdmin.api.roles.setUserRoles.mutate({ userId: sue.id, roleIds: [roleIds.User, roleIds["Super Admin"]] });
    await superAdmin.api.roles.setUserRoles.mutate({ userId: sam.id, roleIds: [roleIds.User] });
    expect(await codeOf(superAdmin.api.roles.list.query())).toBe("FORBIDDEN");
    const sueClient = await t.client({ userId: sue.id, origin: TEST_APP_ORIGIN });
    await sueClient.api.roles.setUserRoles.mutate({ userId: sam.id, roleIds: [roleIds.User, roleIds["Super Admin"]] });
    expect(await codeOf(superAdmin.api.roles.list.query())).toBe("allowed");
  });

  it("two Super Admins demoting each other at once: one of them stays", async () => {
    const prisma = t.server.database.prisma;
    // Only Sam and Sue are enabled Super Admins now.
    const sue = await prisma.user.findFirstOrThrow({ where: { name: "Sue Super" }, select: { id: true } });
    const sueClient = await t.client({ userId: sue.id, origin: TEST_APP_ORIGIN });
    const outcomes = await Promise.all([
      codeOf(superAdmin.api.roles.setUserRoles.mutate({ userId: sue.id, roleIds: [roleIds.User] })),
      codeOf(sueClient.api.roles.setUserRoles.mutate({ userId: sam.id, roleIds: [roleIds.User] })),
    ]);
    expect(outcomes.filter((outcome) => outcome === "allowed").length).toBeLessThanOrEqual(1);
    const left = await prisma.userRole.count({ where: { role: { name: ROLES.superAdmin }, user: { disabledAt: null } } });
    expect(left).toBe(1);
  });

  it("refuses an unknown user or role", async () => {
    const nobody = "00000000-0000-4000-8000-000000000000";
    const ids = await t.server.database.prisma.userRole.findMany({ where: { role: { name: ROLES.superAdmin }, user: { disabledAt: null } } });
    const client = await t.client({ userId: ids[0]!.userId, origin: TEST_APP_ORIGIN });
    expect(await codeOf(client.api.roles.setUserRoles.mutate({ userId: nobody, roleIds: [] }))).toBe("NOT_FOUND");
    expect(await codeOf(client.api.roles.setUserRoles.mutate({ userId: ben.id, roleIds: [nobody] }))).toBe("BAD_REQUEST");
  });
});

describe("moderation (messaging:admin)", () => {
  it("an admin who is not a member deletes anyone's message (audited) and removes any member, but cannot read the conversation", async () => {
    const prisma = t.server.database.prisma;
    const [ana, cleo, adminUser] = await Promise.all([
      t.createUser({ name: "Ana Member" }),
      t.createUser({ name: "Cleo Member" }),
      t.createUser({ name: "Mo Moderator", roles: ["User", "Admin"] }),
    ]);
    const anaClient = await t.client({ userId: ana.id, origin: TEST_APP_ORIGIN });
    const cleoClient = await t.client({ userId: cleo.id, origin: TEST_APP_ORIGIN });
    const moderator = await t.client({ userId: adminUser.id, origin: TEST_APP_ORIGIN });
    const group = await anaClient.api.conversations.createGroup.mutate({ name: "Moderated", participantIds: [cleo.id, ben.id] });
    const message = await anaClient.api.messages.send.mutate({ conversationId: group.id, content: "rude words", clientMessageId: "m-1" });

    // A member may not delete someone else's message; the moderator may not read it.
    expect(await codeOf(cleoClient.api.messages.delete.mutate({ messageId: message.id }))).toBe("FORBIDDEN");
    expect(["NOT_FOUND", "FORBIDDEN"]).toContain(await codeOf(moderator.api.messages.list.query({ conversationId: group.id })));
    expect(["NOT_FOUND", "FORBIDDEN"]).toContain(await codeOf(moderator.api.conversations.get.query({ conversationId: group.id })));

    expect(await codeOf(moderator.api.messages.delete.mutate({ messageId: message.id }))).toBe("allowed");
    expect(await prisma.message.findUniqueOrThrow({ where: { id: message.id } })).toMatchObject({ deletedById: adminUser.id });
    const [deleted] = await prisma.auditLog.findMany({ where: { action: "message.deleted_by_admin", targetId: message.id } });
    expect(deleted).toMatchObject({ actorId: adminUser.id, targetType: "message", conversationId: group.id });

    expect(await codeOf(moderator.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: cleo.id }))).toBe(
      "allowed",
    );
    const cleoMembership = await prisma.conversationParticipant.findUniqueOrThrow({
      where: { conversationId_userId: { conversationId: group.id, userId: cleo.id } },
    });
    expect(cleoMembership.leftAt).not.toBeNull();

    // Deleting one's own message is not moderation: not in the audit log.
    const own = await anaClient.api.messages.send.mutate({ conversationId: group.id, content: "oops", clientMessageId: "m-2" });
    await anaClient.api.messages.delete.mutate({ messageId: own.id });
    expect(await prisma.auditLog.count({ where: { action: "message.deleted_by_admin", targetId: own.id } })).toBe(0);
  });
});
