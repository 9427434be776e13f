import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ATTACHMENTS_NEED_A_TYPE, toPublicSettings, type UpdateMessagingSettingsInput } from "~/features/settings/contracts";
import { getMessagingLimits } from "~/features/settings/settings.service";
import type { NodeTrpcClient } from "~/trpc/node-client";
import { errorOf } from "../helpers/error-code";
import { collectEvents } from "../helpers/event-collector";
import { restoreSettingsAfterEach } from "../helpers/settings-snapshot";
import { randomTestAddress, startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// settings.public / get / update: who may call them, what update accepts, what it
// records, and that a change reaches every connected client at once. (Two
// instances: multi-instance.test.ts.)

let t: TestServer;
let adminId: string;
let adminAddress: string;
let admin: NodeTrpcClient;
let plain: NodeTrpcClient;

beforeAll(async () => {
  t = await startTestServer();
  const [ada, ben] = await Promise.all([
    t.createUser({ name: "Ada", roles: ["User", "Admin"] }),
    t.createUser({ name: "Ben", roles: ["User"] }),
  ]);
  adminId = ada.id;
  adminAddress = randomTestAddress();
  admin = await t.client({ userId: ada.id, origin: TEST_APP_ORIGIN, address: adminAddress });
  plain = await t.client({ userId: ben.id, origin: TEST_APP_ORIGIN });
});
afterAll(async () => {
  await t?.close();
});
// Every test starts from the seeded settings.
const seeded = restoreSettingsAfterEach(() => t);

/** The settings row and its audit trail: what a refused call must leave as it was. */
async function state() {
  const prisma = t.server.database.prisma;
  return {
    row: await prisma.messagingSettings.findUniqueOrThrow({ where: { id: 1 } }),
    audits: await prisma.auditLog.count({ where: { action: "settings.updated" } }),
  };
}

describe("settings.update validation", () => {
  const refused: [UpdateMessagingSettingsInput, string, string][] = [
    [{ maxMessageLength: 99 }, "maxMessageLength", "The maximum message length must be between 100 and 5,000 characters."],
    [{ maxMessageLength: 5001 }, "maxMessageLength", "The maximum message length must be between 100 and 5,000 characters."],
    [{ maxMessageLength: 150.5 }, "maxMessageLength", "The maximum message length must be a whole number."],
    [{ messageRetentionDays: 6 }, "messageRetentionDays", "Message retention must be between 7 and 365 days."],
    [{ messageRetentionDays: 366 }, "messageRetentionDays", "Message retention must be between 7 and 365 days."],
    [{ maxGroupParticipants: 1 }, "maxGroupParticipants", "The maximum group size must be between 2 and 100 people."],
    [{ maxGroupParticipants: 101 }, "maxGroupParticipants", "The maximum group size must be between 2 and 100 people."],
    [{ typingIndicatorTimeout: 999 }, "typingIndicatorTimeout", "The typing indicator timeout must be between 1,000 and 60,000 ms."],
    [{ typingIndicatorTimeout: 60_001 }, "typingIndicatorTimeout", "The typing indicator timeout must be between 1,000 and 60,000 ms."],
    [{ rateLimitPerMinute: 0 }, "rateLimitPerMinute", "The send limit must be between 1 and 10,000 messages a minute."],
    [{ emailDigestAfterMinutes: 4 }, "emailDigestAfterMinutes", "The time offline before a digest must be between 5 and 1,440 minutes."],
    [{ emailDigestAfterMinutes: 1441 }, "emailDigestAfterMinutes", "The time offline before a digest must be between 5 and 1,440 minutes."],
    [{ emailDigestAfterMinutes: 7.5 }, "emailDigestAfterMinutes", "The time offline before a digest must be a whole number."],
    [{ emailDigestIntervalMinutes: 14 }, "emailDigestIntervalMinutes", "The time between email digests must be between 15 and 10,080 minutes."],
    [{ emailDigestIntervalMinutes: 10_081 }, "emailDigestIntervalMinutes", "The time between email digests must be between 15 and 10,080 minutes."],
    [{ maxFileSize: 1023 }, "maxFileSize", "The maximum file size must be between 1,024 and 104,857,600 bytes."],
    [{ allowedFileTypes: ["pdf"] }, "allowedFileTypes", "Use a MIME type such as image/png or image/*."],
    [{ allowedFileTypes: ["image/png", " IMAGE/PNG "] }, "allowedFileTypes", "List each file type once."],
    // One bad field refuses the whole update: the good one is not applied either.
    [{ enabled: false, maxMessageLength: 99 }, "maxMessageLength", "The maximum message length must be between 100 and 5,000 characters."],
  ];

  it.each(refused)("refuses %o with BAD_REQUEST and the field's message, changing nothing", async (input, field, message) => {
    const before = await state();
    const error = await errorOf(admin.api.settings.update.mutate(input));
    expect(error.data.code).toBe("BAD_REQUEST");
    expect(error.data.zodError?.fieldErrors).toEqual({ [field]: [message] });
    expect(await state()).toEqual(before);
  });

  it("refuses an update that names no setting", async () => {
    const before = await state();
    const error = await errorOf(admin.api.settings.update.mutate({}));
    expect(error.data.code).toBe("BAD_REQUEST");
    expect(error.data.zodError?.formErrors).toEqual(["Change at least one setting."]);
    expect(await state()).toEqual(before);
  });

  it("refuses file attachments with no file type allowed, judged with the stored settings", async () => {
    await admin.api.settings.update.mutate({ allowFileAttachments: false, allowedFileTypes: [] });
    const before = await state();
    const error = await errorOf(admin.api.settings.update.mutate({ allowFileAttachments: true }));
    expect(error.data.code).toBe("BAD_REQUEST");
    expect(error.message).toBe(ATTACHMENTS_NEED_A_TYPE);
    expect(await state()).toEqual(before);
  });

  it("accepts the ends of each range", async () => {
    const low = await admin.api.settings.update.mutate({
      maxMessageLength: 100,
      messageRetentionDays: 7,
      maxGroupParticipants: 2,
      typingIndicatorTimeout: 1000,
      rateLimitPerMinute: 1,
      emailDigestAfterMinutes: 5,
      emailDigestIntervalMinutes: 15,
    });
    expect(low).toMatchObject({
      maxMessageLength: 100,
      messageRetentionDays: 7,
      maxGroupParticipants: 2,
      typingIndicatorTimeout: 1000,
      rateLimitPerMinute: 1,
      emailDigestAfterMinutes: 5,
      emailDigestIntervalMinutes: 15,
    });
    const high = await admin.api.settings.update.mutate({
      maxMessageLength: 5000,
      messageRetentionDays: 365,
      maxGroupParticipants: 100,
      typingIndicatorTimeout: 60_000,
      rateLimitPerMinute: 10_000,
      emailDigestAfterMinutes: 1440,
      emailDigestIntervalMinutes: 10_080,
      allowedFileTypes: [" Image/* ", "application/pdf"],
    });
    expect(high).toMatchObject({
      maxMessageLength: 5000,
      messageRetentionDays: 365,
      maxGroupParticipants: 100,
      emailDigestAfterMinutes: 1440,
      emailDigestIntervalMinutes: 10_080,
      allowedFileTypes: ["image/*", "application/pdf"],
    });
    expect(await admin.api.settings.get.query()).toEqual(high);
  });
});

describe("who may call the settings procedures", () => {
  it("a plain user reads the public view but gets FORBIDDEN for get and update", async () => {
    const before = await state();
    expect((await errorOf(plain.api.settings.get.query())).data.code).toBe("FORBIDDEN");
    expect((await errorOf(plain.api.settings.update.mutate({ enabled: false }))).data.code).toBe("FORBIDDEN");
    expect(await state()).toEqual(before);
    const view = await plain.api.settings.public.query();
    expect(view).toEqual(toPublicSettings(before.row));
    expect(Object.keys(view).sort()).toEqual(
      ["allowFileAttachments", "allowedFileTypes", "enabled", "maxFileSize", "maxGroupParticipants", "maxMessageLength", "typingIndicatorTimeout"],
    );
  });

  it("someone signed in without any role still reads the public view; nobody signed out does", async () => {
    const roleless = await t.createUser({ name: "Nobody", roles: [] });
    const client = await t.client({ userId: roleless.id, origin: TEST_APP_ORIGIN });
    expect(await client.api.settings.public.query()).toMatchObject({ enabled: true });
    const anonymous = await t.client({ origin: TEST_APP_ORIGIN });
    expect((await errorOf(anonymous.api.settings.public.query())).data.code).toBe("UNAUTHORIZED");
  });

  it("an Admin reads every setting and who changed them last", async () => {
    const settings = await admin.api.settings.get.query();
    expect(settings).toMatchObject({
      maxMessageLength: seeded.initial.maxMessageLength,
      messageRetentionDays: seeded.initial.messageRetentionDays,
      rateLimitPerMinute: seeded.initial.rateLimitPerMinute,
      emailDigestAfterMinutes: seeded.initial.emailDigestAfterMinutes,
      emailDigestIntervalMinutes: seeded.initial.emailDigestIntervalMinutes,
      updatedBy: null,
    });
    expect(settings.updatedAt).toBeInstanceOf(Date);
  });
});

describe("settings.update", () => {
  it("changes the email digest timing: recorded, read by services through getMessagingLimits, never in the public view", async () => {
    const prisma = t.server.database.prisma;
    // The seed's defaults (no MESSAGING_EMAIL_DIGEST_* in the test server's environment).
    expect(seeded.initial).toMatchObject({ emailDigestAfterMinutes: 15, emailDigestIntervalMinutes: 60 });
    // Loads the limits into this process's cache: the change must not wait for it to expire.
    expect(await getMessagingLimits(prisma)).toMatchObject({ emailDigestAfterMinutes: 15, emailDigestIntervalMinutes: 60 });

    const updated = await admin.api.settings.update.mutate({ emailDigestAfterMinutes: 30, emailDigestIntervalMinutes: 240 });
    expect(updated).toMatchObject({ emailDigestAfterMinutes: 30, emailDigestIntervalMinutes: 240, updatedBy: { id: adminId } });
    expect(await getMessagingLimits(prisma)).toMatchObject({ emailDigestAfterMinutes: 30, emailDigestIntervalMinutes: 240 });

    const audit = await prisma.auditLog.findFirstOrThrow({ where: { action: "settings.updated" }, orderBy: { id: "desc" } });
    expect(audit.metadata).toEqual({
      changes: { emailDigestAfterMinutes: { from: 15, to: 30 }, emailDigestIntervalMinutes: { from: 60, to: 240 } },
    });
    const [newest] = (await admin.api.settings.history.query({ limit: 1 })).items;
    expect(newest?.changes).toEqual([
      { field: "emailDigestAfterMinutes", from: 15, to: 30 },
      { field: "emailDigestIntervalMinutes", from: 60, to: 240 },
    ]);

    const view = await plain.api.settings.public.query();
    expect(view).not.toHaveProperty("emailDigestAfterMinutes");
    expect(view).not.toHaveProperty("emailDigestIntervalMinutes");
  });

  it("records who changed what, before and after, for the changed settings only", async () => {
    const prisma = t.server.database.prisma;
    const auditsBefore = await prisma.auditLog.count({ where: { action: "settings.updated" } });
    const updated = await admin.api.settings.update.mutate({
      maxMessageLength: 1500,
      enabled: seeded.initial.enabled,
      allowedFileTypes: ["image/png", "image/*"],
    });
    expect(updated).toMatchObject({ maxMessageLength: 1500, allowedFileTypes: ["image/png", "image/*"], updatedBy: { id: adminId, name: "Ada" } });

    const audits = await prisma.auditLog.findMany({ where: { action: "settings.updated" }, orderBy: { id: "asc" } });
    expect(audits).toHaveLength(auditsBefore + 1);
    expect(audits.at(-1)).toMatchObject({
      actorId: adminId,
      targetType: "messaging_settings",
      targetId: "1",
      ip: adminAddress,
      metadata: {
        changes: {
          maxMessageLength: { from: seeded.initial.maxMessageLength, to: 1500 },
          allowedFileTypes: { from: seeded.initial.allowedFileTypes, to: ["image/png", "image/*"] },
        },
      },
    });
    expect(Object.keys((audits.at(-1)!.metadata as { changes: object }).changes).sort()).toEqual(["allowedFileTypes", "maxMessageLength"]);

    // Saving the same values again changes nothing and records nothing.
    const again = await admin.api.settings.update.mutate({ maxMessageLength: 1500 });
    expect(again.updatedAt).toEqual(updated.updatedAt);
    expect(await prisma.auditLog.count({ where: { action: "settings.updated" } })).toBe(auditsBefore + 1);
  });

  it("reaches every connected client at once, and this instance's sends follow it", async () => {
    const carl = await t.createUser({ name: "Carl", roles: ["User"] });
    const carlClient = await t.client({ userId: carl.id, origin: TEST_APP_ORIGIN });
    const conversation = await plain.api.conversations.createDirect.mutate({ recipientId: carl.id });
    // Both stay out of any conversation of the admin's: the event goes to everyone.
    const benEvents = collectEvents(plain);
    const carlEvents = collectEvents(carlClient);
    await Promise.all([benEvents.ready(), carlEvents.ready()]);
    // Loads the limits into this instance's cache.
    await plain.api.messages.send.mutate({ conversationId: conversation.id, content: "x".repeat(1500), clientMessageId: "before" });

    // A refused update tells nobody anything.
    await errorOf(admin.api.settings.update.mutate({ maxMessageLength: 50 }));
    const updated = await admin.api.settings.update.mutate({ maxMessageLength: 1200, maxGroupParticipants: 20 });
    for (const events of [benEvents, carlEvents]) {
      await vi.waitFor(() => expect(events.ofType("settings.updated")).toHaveLength(1), { timeout: 5_000 });
      expect(events.ofType("settings.updated")[0]).toEqual({ type: "settings.updated", settings: toPublicSettings(updated) });
    }
    expect(benEvents.ofType("settings.updated")[0]?.settings).toMatchObject({ maxMessageLength: 1200, maxGroupParticipants: 20 });

    const tooLong = await errorOf(
      plain.api.messages.send.mutate({ conversationId: conversation.id, content: "x".repeat(1201), clientMessageId: "after-1" }),
    );
    expect(tooLong.data.code).toBe("BAD_REQUEST");
    expect(tooLong.message).toBe("Messages are at most 1200 characters.");
    await plain.api.messages.send.mutate({ conversationId: conversation.id, content: "x".repeat(1200), clientMessageId: "after-2" });
    expect(await plain.api.settings.public.query()).toEqual(toPublicSettings(updated));

    // Saving unchanged values announces nothing.
    await admin.api.settings.update.mutate({ maxMessageLength: 1200 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(benEvents.ofType("settings.updated")).toHaveLength(1);
    benEvents.stop();
    carlEvents.stop();
  });
});
