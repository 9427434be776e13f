import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "~/features/audit/audit.service";
import { AUDIT_ACTIONS } from "~/features/audit/contracts";
import { SETTINGS_KEYS } from "~/features/settings/contracts";
import { invalidateMessagingLimits } from "~/features/settings/settings.service";
import type { NodeTrpcClient } from "~/trpc/node-client";
import { randomTestAddress, startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";
import { codeOf } from "../helpers/error-code";

// The admin pages' procedures: settings.history (the settings' changes, from the
// audit log; messaging:settings:read) and audit.list / audit.actions (the whole
// log, filtered and paged; messaging:admin).

let t: TestServer;
let ada: { id: string; email: string; name: string };
let admin: NodeTrpcClient;
let plain: NodeTrpcClient;
/** Holds only messaging:settings:read: may read the history, not the audit log. */
let reader: NodeTrpcClient;
let anonymous: NodeTrpcClient;

beforeAll(async () => {
  t = await startTestServer();
  const prisma = t.server.database.prisma;
  const settingsRead = await prisma.permission.findUniqueOrThrow({ where: { key: "messaging:settings:read" } });
  const readerRole = await prisma.role.create({
    data: { name: "Settings Reader", permissions: { create: [{ permissionId: settingsRead.id }] } },
  });
  const [adaUser, ben, rita] = await Promise.all([
    t.createUser({ name: "Ada Admin", roles: ["User", "Admin"] }),
    t.createUser({ name: "Ben", roles: ["User"] }),
    t.createUser({ name: "Rita Reader", roles: [] }),
  ]);
  ada = adaUser;
  await prisma.userRole.create({ data: { userId: rita.id, roleId: readerRole.id } });
  admin = await t.client({ userId: ada.id, origin: TEST_APP_ORIGIN });
  plain = await t.client({ userId: ben.id, origin: TEST_APP_ORIGIN });
  reader = await t.client({ userId: rita.id, origin: TEST_APP_ORIGIN });
  anonymous = await t.client({ origin: TEST_APP_ORIGIN });
});
afterAll(async () => {
  await t?.close();
});

describe("settings.history", () => {
  beforeAll(async () => {
    const initial = await admin.api.settings.get.query();
    await admin.api.settings.update.mutate({ maxMessageLength: 1000 });
    await admin.api.settings.update.mutate({ maxMessageLength: 1000 }); // no change: no entry
    await admin.api.settings.update.mutate({ allowedFileTypes: ["image/png"], enabled: false, rateLimitPerMinute: 7 });
    await admin.api.settings.update.mutate({ enabled: true, maxMessageLength: initial.maxMessageLength });
    // Not a settings change: never in the history.
    await t.server.database.prisma.auditLog.create({ data: { action: "auth.sign_in_failed", actorId: ada.id } });
    invalidateMessagingLimits();
  });

  it("lists each change newest first: who, when, each field before and after, in the form's order", async () => {
    const before = await t.server.database.prisma.messagingSettings.findUniqueOrThrow({ where: { id: 1 } });
    const { items, nextCursor } = await admin.api.settings.history.query({});
    expect(nextCursor).toBeNull();
    expect(items).toHaveLength(3);
    const actor = { id: ada.id, name: ada.name, email: ada.email };
    expect(items.map((item) => item.actor)).toEqual([actor, actor, actor]);
    expect(items[0]!.changes).toEqual([
      { field: "enabled", from: false, to: true },
      { field: "maxMessageLength", from: 1000, to: before.maxMessageLength },
    ]);
    expect(items[1]!.changes.map((change) => change.field)).toEqual(["enabled", "allowedFileTypes", "rateLimitPerMinute"]);
    expect(items[1]!.changes[1]).toMatchObject({ field: "allowedFileTypes", to: ["image/png"] });
    expect(items[2]!.changes).toEqual([{ field: "maxMessageLength", from: before.maxMessageLength, to: 1000 }]);
    expect(items[0]!.at.getTime()).toBeGreaterThanOrEqual(items[1]!.at.getTime());
    for (const item of items) {
      for (const change of item.changes) expect(SETTINGS_KEYS).toContain(change.field);
    }
  });

  it("pages without skipping or repeating, entries of the same instant included", async () => {
    const prisma = t.server.database.prisma;
    const sameInstant = new Date();
    await prisma.auditLog.createMany({
      data: [1, 2, 3].map((n) => ({
        action: "settings.updated",
        actorId: ada.id,
        createdAt: sameInstant,
        metadata: { changes: { maxGroupParticipants: { from: n, to: n + 1 } } },
      })),
    });
    const all = await admin.api.settings.history.query({ limit: 50 });
    expect(all.items).toHaveLength(6);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof admin.api.settings.history.query>> = await admin.api.settings.history.query({ limit: 2, cursor });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.items.map((item) => item.id));
    expect(new Set(seen).size).toBe(6);
  });

  it("shows a change by an account deleted since with no actor, and skips what it cannot read", async () => {
    const prisma = t.server.database.prisma;
    const gone = await t.createUser({ name: "Gone" });
    await prisma.auditLog.create({
      data: {
        action: "settings.updated",
        actorId: gone.id,
        metadata: { changes: { maxGroupParticipants: { from: 50, to: 40 }, notASetting: { from: 1, to: 2 } } },
      },
    });
    await prisma.user.delete({ where: { id: gone.id } });
    const [newest] = (await admin.api.settings.history.query({ limit: 1 })).items;
    expect(newest).toMatchObject({ actor: null, changes: [{ field: "maxGroupParticipants", from: 50, to: 40 }] });
  });

  it("needs messaging:settings:read", async () => {
    expect(await codeOf(reader.api.settings.history.query({}))).toBe("allowed");
    expect(await codeOf(plain.api.settings.history.query({}))).toBe("FORBIDDEN");
    expect(await codeOf(anonymous.api.settings.history.query({}))).toBe("UNAUTHORIZED");
  });

  it("refuses a malformed cursor or page size", async () => {
    for (const input of [{ cursor: "abc" }, { cursor: "0" }, { cursor: "99999999999999999999" }, { limit: 0 }, { limit: 51 }]) {
      expect(await codeOf(admin.api.settings.history.query(input))).toBe("BAD_REQUEST");
    }
  });
});

describe("audit.list", () => {
  const day = (n: number, hour = 12) => new Date(Date.UTC(2001, 0, n, hour));
  let alice: { id: string; email: string };
  let bob: { id: string; email: string };

  beforeAll(async () => {
    alice = await t.createUser({ name: "Alice Zephyr", email: `alice-${Date.now()}@audit.example` });
    bob = await t.createUser({ name: "Bob Quill", email: `bob-${Date.now()}@audit.example` });
    // January 2001: nothing else in this database is that old.
    await t.server.database.prisma.auditLog.createMany({
      data: [
        { action: "test.alpha", actorId: alice.id, createdAt: day(1), ip: "192.0.2.1", metadata: { note: "first" } },
        { action: "test.beta", actorId: alice.id, createdAt: day(2) },
        { action: "test.alpha", actorId: bob.id, createdAt: day(3), targetType: "user", targetId: alice.id },
        { action: "test.alpha", actorId: null, createdAt: day(3) },
        { action: "test.beta", actorId: bob.id, createdAt: day(3) },
        { action: "test.alpha", actorId: alice.id, createdAt: day(4, 0) },
        { action: "test.gamma", actorId: bob.id, createdAt: day(5) },
      ],
    });
  });

  const january = { from: day(1, 0), to: day(6, 0) };

  it("lists entries newest first with who, what, target, address and metadata", async () => {
    const { items, nextCursor } = await admin.api.audit.list.query(january);
    expect(nextCursor).toBeNull();
    expect(items).toHaveLength(7);
    expect(items.map((item) => item.at.getTime())).toEqual([...items.map((item) => item.at.getTime())].sort((a, b) => b - a));
    expect(items[0]).toMatchObject({ action: "test.gamma", actor: { id: bob.id, name: "Bob Quill", email: bob.email } });
    expect(items.at(-1)).toMatchObject({
      action: "test.alpha",
      actor: { id: alice.id },
      ip: "192.0.2.1",
      metadata: { note: "first" },
      targetType: null,
      conversationId: null,
    });
    expect(items.find((item) => item.targetType === "user")).toMatchObject({ targetId: alice.id, actor: { id: bob.id } });
  });

  it("filters by action, by part of the actor's name or email (any case), and by time, combined", async () => {
    const actions = async (input: Parameters<typeof admin.api.audit.list.query>[0]) =>
      (await admin.api.audit.list.query({ ...january, ...input })).items.map((item) => `${item.action}@${item.at.getUTCDate()}`);

    expect(await actions({ action: "test.alpha" })).toEqual(["test.alpha@4", "test.alpha@3", "test.alpha@3", "test.alpha@1"]);
    expect(await actions({ actor: "zEPHYR" })).toEqual(["test.alpha@4", "test.beta@2", "test.alpha@1"]);
    expect(await actions({ actor: bob.email.slice(0, 10).toUpperCase() })).toEqual(["test.gamma@5", "test.beta@3", "test.alpha@3"]);
    // From is inclusive, to is exclusive.
    expect(await actions({ from: day(3), to: day(4, 0) })).toHaveLength(3);
    // Entries of one instant come newest-written first.
    expect(await actions({ from: day(3), to: day(4, 1) })).toEqual(["test.alpha@4", "test.beta@3", "test.alpha@3", "test.alpha@3"]);
    expect(await actions({ from: day(2, 0), to: day(4, 0), action: "test.alpha", actor: "quill" })).toEqual(["test.alpha@3"]);
    expect(await actions({ action: "test.nothing" })).toEqual([]);
    // Without a range, the January entries are the oldest of all.
    const everything = await admin.api.audit.list.query({ action: "test.alpha", limit: 100 });
    expect(everything.items).toHaveLength(4);
  });

  it("pages through a filter without skipping or repeating, ties in time included", async () => {
    const all = (await admin.api.audit.list.query(january)).items.map((item) => item.id);
    for (const limit of [1, 2, 3]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Awaited<ReturnType<typeof admin.api.audit.list.query>> = await admin.api.audit.list.query({ ...january, limit, cursor });
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor);
      expect(seen).toEqual(all);
      expect(pages).toBe(Math.ceil(all.length / limit));
    }
    const alphas = await admin.api.audit.list.query({ ...january, action: "test.alpha", limit: 3 });
    expect(alphas.items).toHaveLength(3);
    const rest = await admin.api.audit.list.query({ ...january, action: "test.alpha", limit: 3, cursor: alphas.nextCursor });
    expect(rest).toMatchObject({ items: [{ action: "test.alpha", ip: "192.0.2.1" }], nextCursor: null });
  });

  it("audit.actions is the closed list recordAudit takes (AUDIT_ACTIONS), sorted, whatever rows the log holds", async () => {
    const actions = await admin.api.audit.actions.query();
    expect(actions).toEqual([...AUDIT_ACTIONS]);
    expect(actions).toEqual(expect.arrayContaining(["settings.updated", "auth.sign_in_failed", "message.deleted_by_admin"]));
    expect(new Set(actions).size).toBe(actions.length);
    expect(actions).toEqual([...actions].sort());
    // Rows written behind recordAudit's back (this file's test.*) do not make actions.
    expect(actions).not.toContain("test.alpha");
  });

  it("recordAudit takes only those actions", async () => {
    const prisma = t.server.database.prisma;
    // @ts-expect-error -- not an audit action: the type refuses it, and so does the function.
    await expect(recordAudit(prisma, { action: "made.up" })).rejects.toThrow(/AUDIT_ACTIONS/);
    expect(await prisma.auditLog.count({ where: { action: "made.up" } })).toBe(0);
  });

  it("filters by conversation: a conversation nobody audited has no entries", async () => {
    expect((await admin.api.audit.list.query({ conversationId: randomUUID() })).items).toEqual([]);
  });

  it("needs messaging:admin: a plain user and a settings reader are refused, signed-out callers too", async () => {
    for (const client of [plain, reader]) {
      expect(await codeOf(client.api.audit.list.query({}))).toBe("FORBIDDEN");
      expect(await codeOf(client.api.audit.actions.query())).toBe("FORBIDDEN");
    }
    expect(await codeOf(anonymous.api.audit.list.query({}))).toBe("UNAUTHORIZED");
    expect(await codeOf(anonymous.api.audit.actions.query())).toBe("UNAUTHORIZED");
    const superAdmin = await t.createUser({ name: "Sam Super", roles: ["Super Admin"] });
    const superClient = await t.client({ userId: superAdmin.id, origin: TEST_APP_ORIGIN });
    expect(await codeOf(superClient.api.audit.list.query({ limit: 1 }))).toBe("allowed");
  });

  it("refuses a range that ends before it starts, a malformed cursor and an oversized page", async () => {
    for (const input of [
      { from: day(3), to: day(2) },
      { from: day(3), to: day(3) },
      { cursor: "12x" },
      { limit: 101 },
      { action: "" },
      { conversationId: "not-a-uuid" },
    ]) {
      expect(await codeOf(admin.api.audit.list.query(input))).toBe("BAD_REQUEST");
    }
  });
});

describe("what the log records: who, what, when, from where", () => {
  it("conversations created, people added and removed, a moderator's delete; not repeats or people's own deletes", async () => {
    const prisma = t.server.database.prisma;
    const [owner, member, extra] = await Promise.all(
      ["Olga Owner", "Milo Member", "Eli Extra"].map((name) => t.createUser({ name })),
    );
    const ownerClient = await t.client({ userId: owner!.id, origin: TEST_APP_ORIGIN, address: "192.0.2.10" });
    const memberClient = await t.client({ userId: member!.id, origin: TEST_APP_ORIGIN, address: "192.0.2.11" });
    const moderator = await t.client({ userId: ada.id, origin: TEST_APP_ORIGIN, address: "192.0.2.12" });
    const startedAt = new Date();

    const direct = await ownerClient.api.conversations.createDirect.mutate({ recipientId: member!.id });
    await ownerClient.api.conversations.createDirect.mutate({ recipientId: member!.id }); // the same one: no entry
    const group = await ownerClient.api.conversations.createGroup.mutate({ name: "Audited group", participantIds: [member!.id] });
    await ownerClient.api.conversations.addParticipants.mutate({ conversationId: group.id, userIds: [extra!.id] });
    await ownerClient.api.conversations.addParticipants.mutate({ conversationId: group.id, userIds: [extra!.id] }); // no change: no entry
    await ownerClient.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: extra!.id });
    await ownerClient.api.conversations.addParticipants.mutate({ conversationId: group.id, userIds: [extra!.id] });
    await moderator.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: extra!.id });
    await memberClient.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: member!.id });
    const theirs = await memberClient.api.messages.send.mutate({ conversationId: direct.id, content: "moderate me", clientMessageId: "audit-1" });
    const own = await ownerClient.api.messages.send.mutate({ conversationId: direct.id, content: "my own", clientMessageId: "audit-2" });
    await ownerClient.api.messages.delete.mutate({ messageId: own.id }); // one's own delete: not audited
    await moderator.api.messages.delete.mutate({ messageId: theirs.id });
    await moderator.api.messages.delete.mutate({ messageId: theirs.id }); // already deleted: no second entry

    const rows = await prisma.auditLog.findMany({
      where: { conversationId: { in: [direct.id, group.id] } },
      orderBy: { id: "asc" },
    });
    expect(rows.map((row) => [row.action, row.actorId, row.targetType, row.targetId, row.conversationId, row.ip, row.metadata])).toEqual([
      ["conversation.created", owner!.id, "conversation", direct.id, direct.id, "192.0.2.10", { type: "DIRECT", participantIds: [owner!.id, member!.id] }],
      [
        "conversation.created",
        owner!.id,
        "conversation",
        group.id,
        group.id,
        "192.0.2.10",
        { type: "GROUP", name: "Audited group", participantIds: [owner!.id, member!.id] },
      ],
      ["conversation.participants_added", owner!.id, "conversation", group.id, group.id, "192.0.2.10", { userIds: [extra!.id] }],
      ["conversation.participant_removed", owner!.id, "user", extra!.id, group.id, "192.0.2.10", { by: "creator" }],
      ["conversation.participants_added", owner!.id, "conversation", group.id, group.id, "192.0.2.10", { userIds: [extra!.id] }],
      ["conversation.participant_removed", ada.id, "user", extra!.id, group.id, "192.0.2.12", { by: "moderator" }],
      ["conversation.participant_removed", member!.id, "user", member!.id, group.id, "192.0.2.11", { by: "self" }],
      ["message.deleted_by_admin", ada.id, "message", theirs.id, direct.id, "192.0.2.12", { senderId: member!.id, seq: theirs.seq }],
    ]);
    for (const row of rows) {
      expect(row.createdAt.getTime()).toBeGreaterThanOrEqual(startedAt.getTime() - 1000);
      expect(row.userAgent).toBeTruthy();
    }
    // The admin page reads them like any other entry; no message content is in the log.
    const deletes = await admin.api.audit.list.query({ action: "message.deleted_by_admin" });
    expect(deletes.items).toHaveLength(1);
    expect(deletes.items[0]).toMatchObject({ actor: { id: ada.id }, targetId: theirs.id, ip: "192.0.2.12" });
    expect(JSON.stringify(rows.map((row) => row.metadata))).not.toContain("moderate me");

    // A conversation's audit trail, as a moderator reads it: exactly its entries, newest first.
    const trail = async (conversationId: string, action?: string) =>
      (await admin.api.audit.list.query({ conversationId, action, limit: 100 })).items.map((item) => item.id);
    const idsOf = (conversationId: string) =>
      rows.filter((row) => row.conversationId === conversationId).map((row) => row.id.toString()).reverse();
    expect(await trail(group.id)).toEqual(idsOf(group.id));
    expect(await trail(group.id)).toHaveLength(6);
    expect(await trail(direct.id)).toEqual(idsOf(direct.id));
    expect(await trail(group.id, "conversation.participant_removed")).toHaveLength(3);
    expect(await trail(direct.id, "conversation.participant_removed")).toEqual([]);
    // Paged like any other filter.
    const firstPage = await admin.api.audit.list.query({ conversationId: group.id, limit: 4 });
    const secondPage = await admin.api.audit.list.query({ conversationId: group.id, limit: 4, cursor: firstPage.nextCursor });
    expect([...firstPage.items, ...secondPage.items].map((item) => item.id)).toEqual(idsOf(group.id));
    expect(secondPage.nextCursor).toBeNull();
  });

  it("a change of settings: who, every field before and after, from where", async () => {
    const prisma = t.server.database.prisma;
    const from = await t.client({ userId: ada.id, origin: TEST_APP_ORIGIN, address: "192.0.2.20" });
    const before = await from.api.settings.get.query();
    const next = before.maxGroupParticipants === 40 ? 41 : 40;
    await from.api.settings.update.mutate({ maxGroupParticipants: next });
    invalidateMessagingLimits();
    const row = await prisma.auditLog.findFirstOrThrow({ where: { action: "settings.updated", ip: "192.0.2.20" } });
    expect(row).toMatchObject({
      actorId: ada.id,
      metadata: { changes: { maxGroupParticipants: { from: before.maxGroupParticipants, to: next } } },
    });
    expect(row.userAgent).toBeTruthy();
  });

  it("failed sign-ins: the email tried, whether the account exists, the address; never the password", async () => {
    const { verifyCredentials } = await import("~/features/auth/auth.service");
    const { resetAuthRateLimits } = await import("~/features/auth/auth-rate-limits");
    const { hashPassword } = await import("~/features/auth/password");
    resetAuthRateLimits();
    const prisma = t.server.database.prisma;
    const known = await t.createUser({ name: "Sign In Target", email: `target-${Date.now()}@audit.example` });
    await prisma.user.update({ where: { id: known.id }, data: { passwordHash: await hashPassword("the right one") } });
    const unknownEmail = `nobody-${Date.now()}@audit.example`;
    const origin = { ip: randomTestAddress(), userAgent: "audit-test" };
    const fail = (email: string, password: string) => verifyCredentials(prisma, { email, password }, origin).then(() => "signed in", () => "refused");

    expect(await fail(known.email, "wrong secret 1")).toBe("refused");
    expect(await fail(unknownEmail, "wrong secret 2")).toBe("refused");
    expect(await fail(known.email, "the right one")).toBe("signed in");

    const rows = await prisma.auditLog.findMany({ where: { action: "auth.sign_in_failed", ip: origin.ip }, orderBy: { id: "asc" } });
    expect(rows.map((row) => [row.actorId, row.targetId, row.userAgent, row.metadata])).toEqual([
      [null, known.id, "audit-test", { email: known.email, accountExists: true, reason: "wrong_password" }],
      [null, null, "audit-test", { email: unknownEmail, accountExists: false, reason: "unknown_email" }],
    ]);
    expect(JSON.stringify(rows.map(({ id: _id, ...row }) => row))).not.toContain("wrong secret");
    // Per account and per address, through the admin page's filters too.
    const perAddress = await admin.api.audit.list.query({ action: "auth.sign_in_failed", limit: 100 });
    expect(perAddress.items.filter((item) => item.ip === origin.ip)).toHaveLength(2);
    expect(
      await prisma.auditLog.count({ where: { action: "auth.sign_in_failed", metadata: { path: ["email"], equals: known.email } } }),
    ).toBe(1);
  });
});
