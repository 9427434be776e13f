import { readdir } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import pg from "pg";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { handleDiscard, handleDownload, handleUpload, type AttachmentRouteDeps } from "~/features/attachments/attachment-routes";
import { sweepAttachments } from "~/features/attachments/attachment-sweeper";
import { attachmentsOf, type Attachment } from "~/features/attachments/contracts";
import { attachmentRuntime } from "~/features/attachments/runtime";
import { type LocalAttachmentStorage } from "~/features/attachments/storage/local-storage";
import { receiveUpload } from "~/features/attachments/upload";
import { loadSessionUser } from "~/features/auth/auth.service";
import { MessageWriter } from "~/features/messages/message-writer";
import { notificationRuntime } from "~/features/notifications/runtime";
import { findExportSubject, userExportSchema, writeUserExport } from "~/features/ops/export";
import { runRetention } from "~/features/ops/retention";
import { invalidateMessagingLimits } from "~/features/settings/settings.service";
import { createDatabase } from "~/server/db/client";
import { codeOf } from "../helpers/error-code";
import { bodyOf, png, sha } from "../helpers/attachment-files";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// Attachments end to end below the browser: the upload route handler (a Web
// Request with a streamed body, as Next.js hands it over), the send that claims
// the files, downloads with their access check and headers, and every way files
// are removed (a refused or cut-off upload, a deleted message, retention, the sweep).

let t: TestServer;
let deps: AttachmentRouteDeps;
let storage: LocalAttachmentStorage;

beforeAll(async () => {
  t = await startTestServer({ RETENTION_INTERVAL_MS: "0" });
  const runtime = attachmentRuntime()!;
  storage = runtime.storage as LocalAttachmentStorage;
  deps = { prisma: t.server.database.prisma, storage, allowedOrigins: runtime.allowedOrigins };
});
afterAll(async () => {
  await t?.close();
});

async function setAttachmentSettings(settings: { allowFileAttachments?: boolean; maxFileSize?: number; allowedFileTypes?: string[] }) {
  await t.server.database.prisma.messagingSettings.update({ where: { id: 1 }, data: settings });
  invalidateMessagingLimits();
}

afterEach(async () => {
  await setAttachmentSettings({
    allowFileAttachments: true,
    maxFileSize: 5 * 1024 * 1024,
    allowedFileTypes: ["image/*", "application/pdf", "text/plain"],
  });
});
beforeAll(async () => {
  await setAttachmentSettings({ allowFileAttachments: true, allowedFileTypes: ["image/*", "application/pdf", "text/plain"] });
});

async function pair(label: string) {
  const [ana, ben] = await Promise.all([t.createUser({ name: `${label} Ana` }), t.createUser({ name: `${label} Ben` })]);
  const anaClient = await t.client({ userId: ana.id, origin: TEST_APP_ORIGIN });
  const benClient = await t.client({ userId: ben.id, origin: TEST_APP_ORIGIN });
  const conversation = await anaClient.api.conversations.createDirect.mutate({ recipientId: ben.id });
  return { ana, ben, anaClient, benClient, conversationId: conversation.id };
}


async function upload(
  userId: string,
  conversationId: string,
  name: string,
  bytes: Buffer,
  options: { origin?: string; contentLength?: string | null } = {},
) {
  const headers: Record<string, string> = { cookie: await t.sessionCookie(userId) };
  if (options.origin) headers.origin = options.origin;
  const length = options.contentLength === undefined ? String(bytes.length) : options.contentLength;
  if (length !== null) headers["content-length"] = length;
  const url = `${TEST_APP_ORIGIN}/api/attachments?conversationId=${conversationId}&name=${encodeURIComponent(name)}`;
  const request = new Request(url, { method: "POST", headers, body: bodyOf(bytes), duplex: "half" } as RequestInit);
  const response = await handleUpload(request, deps);
  const json = (await response.json()) as { attachment?: Attachment; error?: { code: string; message: string } };
  return { status: response.status, ...json };
}

async function download(userId: string, attachmentId: string, variant: "file" | "thumbnail" = "file", query = "") {
  const url = `${TEST_APP_ORIGIN}/api/attachments/${attachmentId}${variant === "thumbnail" ? "/thumbnail" : ""}${query}`;
  const response = await handleDownload(new Request(url, { headers: { cookie: await t.sessionCookie(userId) } }), deps, attachmentId, variant);
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}



/** Every file in the upload directory, `.part` files included. */
async function filesOnDisk(): Promise<string[]> {
  const found: string[] = [];
  const visit = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await visit(full);
      else found.push(path.relative(storage.root, full));
    }
  };
  await visit(storage.root);
  return found;
}

async function filesOf(conversationId: string) {
  return (await filesOnDisk()).filter((file) => file.startsWith(`${conversationId}${path.sep}`));
}

describe("uploading", () => {
  it("stores an image with its size and a thumbnail, sent by a message the other member sees and downloads", async () => {
    const { ana, ben, anaClient, benClient, conversationId } = await pair("image");
    const image = await png(1600, 900);
    const uploaded = await upload(ana.id, conversationId, "holiday.png", image, { origin: TEST_APP_ORIGIN });
    expect(uploaded.status).toBe(201);
    expect(uploaded.attachment).toMatchObject({ name: "holiday.png", contentType: "image/png", size: image.length, width: 1600, height: 900, hasThumbnail: true });
    const id = uploaded.attachment!.id;

    // Before it is sent, only its uploader may fetch it.
    expect((await download(ben.id, id)).status).toBe(404);
    expect((await download(ana.id, id)).status).toBe(200);

    const sent = await anaClient.api.messages.send.mutate({ conversationId, content: "", clientMessageId: "image-1", attachmentIds: [id] });
    expect(attachmentsOf(sent)).toEqual([uploaded.attachment]);
    const page = await benClient.api.messages.list.query({ conversationId });
    expect(attachmentsOf(page.items.at(-1)!)).toEqual([uploaded.attachment]);
    const [conversation] = (await benClient.api.conversations.list.query({})).items.filter((item) => item.id === conversationId);
    expect(conversation?.lastMessage?.preview).toBe("📎 holiday.png");

    const file = await download(ben.id, id);
    expect(file.status).toBe(200);
    expect(sha(file.bytes)).toBe(sha(image));
    expect(file.headers.get("content-type")).toBe("image/png");
    expect(file.headers.get("content-disposition")).toBe(`attachment; filename="holiday.png"; filename*=UTF-8''holiday.png`);
    expect(file.headers.get("x-content-type-options")).toBe("nosniff");
    expect(file.headers.get("content-security-policy")).toMatch(/default-src 'none'.*sandbox/);
    expect(file.headers.get("cache-control")).toBe("private, no-cache");
    expect((await download(ben.id, id, "file", "?inline=1")).headers.get("content-disposition")).toMatch(/^inline;/);

    const thumbnail = await download(ben.id, id, "thumbnail");
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get("content-type")).toBe("image/webp");
    const thumbnailSize = await sharp(thumbnail.bytes).metadata();
    expect(thumbnailSize).toMatchObject({ format: "webp", width: 640, height: 360 });
  });

  it("gives an upright image's size for a photo turned by its EXIF orientation", async () => {
    const { ana, conversationId } = await pair("exif");
    const photo = await sharp({ create: { width: 40, height: 20, channels: 3, background: "#336699" } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const uploaded = await upload(ana.id, conversationId, "phone.jpg", photo);
    expect(uploaded.attachment).toMatchObject({ contentType: "image/jpeg", width: 20, height: 40 });
  });

  it("refuses a .png that is really HTML, by its content, and keeps nothing", async () => {
    const { ana, conversationId } = await pair("html");
    const html = Buffer.from("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>");
    const refused = await upload(ana.id, conversationId, "cute-cat.png", html);
    expect(refused.status).toBe(415);
    expect(refused.error).toEqual({ code: "UNSUPPORTED_MEDIA_TYPE", message: expect.stringContaining("cute-cat.png is a file of type text/html") });
    expect(await t.server.database.prisma.attachment.count({ where: { conversationId } })).toBe(0);
    expect(await filesOf(conversationId)).toEqual([]);
  });

  it("refuses types the settings do not allow, and allows them once they are", async () => {
    const { ana, conversationId } = await pair("types");
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n");
    await setAttachmentSettings({ allowedFileTypes: ["image/*"] });
    const refused = await upload(ana.id, conversationId, "report.pdf", pdf);
    expect(refused).toMatchObject({ status: 415, error: { code: "UNSUPPORTED_MEDIA_TYPE" } });
    expect(refused.error!.message).toContain("Allowed: image/*");
    // Named as an image, still a PDF.
    expect((await upload(ana.id, conversationId, "report.png", pdf)).status).toBe(415);
    await setAttachmentSettings({ allowedFileTypes: ["image/*", "application/pdf"] });
    expect((await upload(ana.id, conversationId, "report.pdf", pdf)).attachment).toMatchObject({ contentType: "application/pdf", hasThumbnail: false, width: null });
    // Plain text is text/plain only when listed; an image family does not take it.
    expect((await upload(ana.id, conversationId, "notes.txt", Buffer.from("shopping: milk, eggs\n"))).status).toBe(415);
  });

  it("refuses a file over the size limit, by its announced length and by what it sends", async () => {
    const { ana, conversationId } = await pair("size");
    await setAttachmentSettings({ maxFileSize: 2048 });
    const big = Buffer.alloc(5000, 0x61);
    const announced = await upload(ana.id, conversationId, "big.txt", big);
    expect(announced).toMatchObject({ status: 413, error: { code: "PAYLOAD_TOO_LARGE", message: "big.txt is larger than the 2 KB limit." } });
    // Announcing less than it sends: stopped once the bytes pass the limit.
    const user = (await loadSessionUser(t.server.database.prisma, ana.id))!;
    const streamed = receiveUpload(deps, user, { conversationId, name: "sneaky.txt", contentLength: 2000, body: Readable.from([big]) });
    await expect(streamed).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(await t.server.database.prisma.attachment.count({ where: { conversationId } })).toBe(0);
    expect(await filesOf(conversationId)).toEqual([]);
  });

  it("keeps nothing of an upload cut off midway or shorter than announced", async () => {
    const { ana, conversationId } = await pair("cut");
    const user = (await loadSessionUser(t.server.database.prisma, ana.id))!;
    const image = await png(800, 800);
    async function* breaksOff() {
      yield image.subarray(0, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error("the connection was reset");
    }
    await expect(
      receiveUpload(deps, user, { conversationId, name: "cut.png", contentLength: image.length, body: Readable.from(breaksOff()) }),
    ).rejects.toThrow("the connection was reset");
    const short = await upload(ana.id, conversationId, "short.png", image.subarray(0, 1000), { contentLength: String(image.length) });
    expect(short).toMatchObject({ status: 400, error: { message: "The upload of short.png was cut off. Try again." } });
    expect(await t.server.database.prisma.attachment.count({ where: { conversationId } })).toBe(0);
    expect(await filesOf(conversationId)).toEqual([]);
  });

  it("refuses a corrupt image, no length, attachments turned off, a non-member and a foreign page", async () => {
    const { ana, conversationId } = await pair("refusals");
    const outsider = await t.createUser({ name: "Outsider" });
    const image = await png(10, 10);
    const corrupt = Buffer.concat([image.subarray(0, 40), Buffer.alloc(400, 7)]);
    expect(await upload(ana.id, conversationId, "broken.png", corrupt)).toMatchObject({
      status: 415,
      error: { message: "broken.png could not be read as an image." },
    });
    expect((await upload(ana.id, conversationId, "a.png", image, { contentLength: null })).status).toBe(400);
    expect((await upload(outsider.id, conversationId, "a.png", image)).status).toBe(404);
    expect((await upload(ana.id, conversationId, "a.png", image, { origin: "https://evil.example" })).status).toBe(403);
    await setAttachmentSettings({ allowFileAttachments: false });
    expect(await upload(ana.id, conversationId, "a.png", image)).toMatchObject({
      status: 403,
      error: { message: "File attachments are turned off by an administrator." },
    });
    expect(await t.server.database.prisma.attachment.count({ where: { conversationId } })).toBe(0);
    expect(await filesOf(conversationId)).toEqual([]);
  });

  it("cleans a file name of paths and control characters", async () => {
    const { ana, conversationId } = await pair("names");
    const uploaded = await upload(ana.id, conversationId, "../../etc/\u202Egnp.exe\u0007 notes.txt", Buffer.from("hello\n"));
    expect(uploaded.attachment?.name).toBe("gnp.exe notes.txt");
  });
});

describe("sending and access", () => {
  it("sends only the sender's own unsent files of that conversation, once; a retry gets the original", async () => {
    const { ana, ben, anaClient, benClient, conversationId } = await pair("claim");
    const mine = (await upload(ana.id, conversationId, "a.png", await png(20, 20))).attachment!;
    const bens = (await upload(ben.id, conversationId, "b.png", await png(20, 20))).attachment!;
    expect(await codeOf(anaClient.api.messages.send.mutate({ conversationId, content: "x", clientMessageId: "claim-0", attachmentIds: [bens.id] }))).toBe(
      "BAD_REQUEST",
    );
    const first = await anaClient.api.messages.send.mutate({ conversationId, content: "look", clientMessageId: "claim-1", attachmentIds: [mine.id] });
    const retry = await anaClient.api.messages.send.mutate({ conversationId, content: "look", clientMessageId: "claim-1", attachmentIds: [mine.id] });
    expect(retry.id).toBe(first.id);
    expect(await codeOf(anaClient.api.messages.send.mutate({ conversationId, content: "again", clientMessageId: "claim-2", attachmentIds: [mine.id] }))).toBe(
      "BAD_REQUEST",
    );
    // Two sends racing for one file: one gets it.
    const raced = (await upload(ben.id, conversationId, "c.png", await png(20, 20))).attachment!;
    const results = await Promise.allSettled([
      benClient.api.messages.send.mutate({ conversationId, content: "one", clientMessageId: "race-1", attachmentIds: [raced.id] }),
      benClient.api.messages.send.mutate({ conversationId, content: "two", clientMessageId: "race-2", attachmentIds: [raced.id] }),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const page = await benClient.api.messages.list.query({ conversationId });
    expect(page.items.flatMap((message) => attachmentsOf(message).map((file) => file.id))).toEqual([mine.id, raced.id]);
  });

  it("refuses more than ten files, a file twice, and files once attachments are off", async () => {
    const { ana, anaClient, conversationId } = await pair("count");
    const ids = Array.from({ length: 11 }, (_, n) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`);
    expect(await codeOf(anaClient.api.messages.send.mutate({ conversationId, content: "x", clientMessageId: "count-1", attachmentIds: ids }))).toBe("BAD_REQUEST");
    const file = (await upload(ana.id, conversationId, "a.png", await png(20, 20))).attachment!;
    expect(
      await codeOf(anaClient.api.messages.send.mutate({ conversationId, content: "x", clientMessageId: "count-2", attachmentIds: [file.id, file.id] })),
    ).toBe("BAD_REQUEST");
    await setAttachmentSettings({ allowFileAttachments: false });
    expect(await codeOf(anaClient.api.messages.send.mutate({ conversationId, content: "x", clientMessageId: "count-3", attachmentIds: [file.id] }))).toBe(
      "FORBIDDEN",
    );
  });

  it("serves files to members only, checked on every request", async () => {
    const { ana, ben, anaClient, conversationId } = await pair("access");
    const outsider = await t.createUser({ name: "Access Outsider" });
    const file = (await upload(ana.id, conversationId, "plan.png", await png(30, 30))).attachment!;
    await anaClient.api.messages.send.mutate({ conversationId, content: "plan", clientMessageId: "access-1", attachmentIds: [file.id] });
    expect((await download(outsider.id, file.id)).status).toBe(404);
    expect((await download(outsider.id, file.id, "thumbnail")).status).toBe(404);
    expect((await download(ben.id, file.id)).status).toBe(200);
    // Not signed in.
    const anonymous = await handleDownload(new Request(`${TEST_APP_ORIGIN}/api/attachments/${file.id}`), deps, file.id, "file");
    expect(anonymous.status).toBe(401);

    // A group member who is removed loses the file at the next request.
    const carla = await t.createUser({ name: "Access Carla" });
    const group = await anaClient.api.conversations.createGroup.mutate({ name: "Access group", participantIds: [ben.id, carla.id] });
    const shared = (await upload(ana.id, group.id, "shared.png", await png(30, 30))).attachment!;
    await anaClient.api.messages.send.mutate({ conversationId: group.id, content: "", clientMessageId: "access-2", attachmentIds: [shared.id] });
    expect((await download(carla.id, shared.id)).status).toBe(200);
    await anaClient.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: carla.id });
    expect((await download(carla.id, shared.id)).status).toBe(404);
  });

  it("lets the uploader take back an unsent file, and nobody else", async () => {
    const { ana, ben, conversationId } = await pair("discard");
    const file = (await upload(ana.id, conversationId, "oops.png", await png(30, 30))).attachment!;
    const discard = async (userId: string) =>
      (
        await handleDiscard(
          new Request(`${TEST_APP_ORIGIN}/api/attachments/${file.id}`, { method: "DELETE", headers: { cookie: await t.sessionCookie(userId) } }),
          deps,
          file.id,
        )
      ).status;
    expect(await discard(ben.id)).toBe(404);
    expect(await filesOf(conversationId)).toHaveLength(2);
    expect(await discard(ana.id)).toBe(204);
    expect(await filesOf(conversationId)).toEqual([]);
    expect(await t.server.database.prisma.attachmentFileDeletion.count()).toBe(0);
  });
});

describe("removing files", () => {
  it("deletes a message's files with it: not served, not stored, not replayed", async () => {
    const { ana, ben, anaClient, benClient, conversationId } = await pair("delete");
    const file = (await upload(ana.id, conversationId, "secret.png", await png(50, 50))).attachment!;
    const message = await anaClient.api.messages.send.mutate({ conversationId, content: "oops", clientMessageId: "delete-1", attachmentIds: [file.id] });
    expect(await filesOf(conversationId)).toHaveLength(2);
    await anaClient.api.messages.delete.mutate({ messageId: message.id });
    expect((await download(ben.id, file.id)).status).toBe(404);
    await expect.poll(() => filesOf(conversationId)).toEqual([]);
    expect(await t.server.database.prisma.attachment.count({ where: { conversationId } })).toBe(0);
    const page = await benClient.api.messages.list.query({ conversationId });
    expect(attachmentsOf(page.items.at(-1)!)).toEqual([]);
    const events = await t.server.database.prisma.event.findMany({ where: { messageId: message.id } });
    expect(JSON.stringify(events.map((event) => event.payload))).not.toContain("secret.png");
  });

  it("retention deletes old messages' files, and the sweep abandoned and unsent uploads", async () => {
    const prisma = t.server.database.prisma;
    const { ana, anaClient, conversationId } = await pair("retention");
    const old = (await upload(ana.id, conversationId, "old.png", await png(30, 30))).attachment!;
    const message = await anaClient.api.messages.send.mutate({ conversationId, content: "", clientMessageId: "retention-1", attachmentIds: [old.id] });
    await prisma.message.update({ where: { id: message.id }, data: { createdAt: new Date(Date.now() - 400 * 24 * 3600 * 1000) } });
    const result = await runRetention(prisma, { attachmentStorage: storage });
    expect(result.deletedMessages).toBeGreaterThanOrEqual(1);
    expect(result.attachmentFilesDeleted).toBeGreaterThanOrEqual(2);
    expect(await filesOf(conversationId)).toEqual([]);

    const unsent = (await upload(ana.id, conversationId, "unsent.png", await png(30, 30))).attachment!;
    const fresh = (await upload(ana.id, conversationId, "fresh.png", await png(30, 30))).attachment!;
    await prisma.attachment.update({ where: { id: unsent.id }, data: { createdAt: new Date(Date.now() - 25 * 3600 * 1000) } });
    await prisma.attachment.create({
      data: { conversationId, uploaderId: ana.id, fileName: "stuck.bin", contentType: "application/octet-stream", size: 0, storageKey: `${conversationId}/stuck`, createdAt: new Date(Date.now() - 2 * 3600 * 1000) },
    });
    const swept = await sweepAttachments({ prisma, storage });
    expect(swept.abandonedUploads).toBe(2);
    expect((await prisma.attachment.findMany({ where: { conversationId }, select: { id: true } })).map((row) => row.id)).toEqual([fresh.id]);
    expect((await filesOf(conversationId)).sort()).toEqual([`${conversationId}${path.sep}${fresh.id}`, `${conversationId}${path.sep}${fresh.id}.thumb.webp`]);
  });

  it("a deleted conversation's files are queued and swept", async () => {
    const prisma = t.server.database.prisma;
    const { ana, anaClient, conversationId } = await pair("conversation");
    const file = (await upload(ana.id, conversationId, "c.png", await png(30, 30))).attachment!;
    await anaClient.api.messages.send.mutate({ conversationId, content: "", clientMessageId: "conv-1", attachmentIds: [file.id] });
    await prisma.conversation.delete({ where: { id: conversationId } });
    expect(await prisma.attachmentFileDeletion.count({ where: { storageKey: { startsWith: conversationId } } })).toBe(2);
    await sweepAttachments({ prisma, storage });
    expect(await filesOf(conversationId)).toEqual([]);
    expect(await prisma.attachmentFileDeletion.count({ where: { storageKey: { startsWith: conversationId } } })).toBe(0);
  });
});


describe("files elsewhere", () => {
  it("a message of files only is previewed by its files in the bell, and exported with links", async () => {
    const prisma = t.server.database.prisma;
    const { ana, ben, anaClient, benClient, conversationId } = await pair("elsewhere");
    const photo = (await upload(ana.id, conversationId, "beach.png", await png(40, 30))).attachment!;
    await anaClient.api.messages.send.mutate({ conversationId, content: "", clientMessageId: "elsewhere-1", attachmentIds: [photo.id] });
    await notificationRuntime()!.notifier.drain();
    const [notification] = (await benClient.api.notifications.list.query({})).items;
    expect(notification?.body).toBe("📎 beach.png");

    const gone = (await upload(ana.id, conversationId, "gone.png", await png(40, 30))).attachment!;
    const deleted = await anaClient.api.messages.send.mutate({ conversationId, content: "x", clientMessageId: "elsewhere-2", attachmentIds: [gone.id] });
    await anaClient.api.messages.delete.mutate({ messageId: deleted.id });

    let text = "";
    await writeUserExport(prisma, (await findExportSubject(prisma, ben.id))!, async (chunk) => void (text += chunk), { includeOthers: true });
    const exported = userExportSchema.parse(JSON.parse(text)).conversations.find((conversation) => conversation.id === conversationId)!;
    expect(exported.messages.map((message) => message.attachments)).toEqual([
      [{ id: photo.id, name: "beach.png", contentType: "image/png", size: photo.size, url: `/api/attachments/${photo.id}` }],
      [],
    ]);
  });

});

describe("races and early ends", () => {
  const onPostgres = process.env.DATABASE_URL !== undefined;

  it("refuses an upload whose client is gone before it is read, and keeps nothing", async () => {
    const { ana, conversationId } = await pair("early");
    const user = (await loadSessionUser(t.server.database.prisma, ana.id))!;
    const gone = new Readable({ read() {} });
    gone.destroy(new Error("the client went away"));
    await expect(receiveUpload(deps, user, { conversationId, name: "gone.png", contentLength: 5000, body: gone })).rejects.toThrow(
      "the client went away",
    );
    const aborted = new AbortController();
    aborted.abort();
    const request = new Request(`${TEST_APP_ORIGIN}/api/attachments?conversationId=${conversationId}&name=a.png`, {
      method: "POST",
      headers: { cookie: await t.sessionCookie(ana.id), "content-length": "10" },
      body: bodyOf(Buffer.alloc(10)),
      duplex: "half",
      signal: aborted.signal,
    } as RequestInit);
    expect((await handleUpload(request, deps)).status).toBe(400);
    expect(await t.server.database.prisma.attachment.count({ where: { conversationId } })).toBe(0);
    expect(await filesOf(conversationId)).toEqual([]);
  });

  it("keeps a queued file that a row still refers to (the queue is a hint)", async () => {
    const prisma = t.server.database.prisma;
    const { ana, anaClient, conversationId } = await pair("hint");
    const file = (await upload(ana.id, conversationId, "kept.png", await png(30, 30))).attachment!;
    await anaClient.api.messages.send.mutate({ conversationId, content: "", clientMessageId: "hint-1", attachmentIds: [file.id] });
    // As the deletion rule leaves it when its DELETE then finds the row claimed.
    await prisma.attachmentFileDeletion.create({ data: { storageKey: `${conversationId}/${file.id}` } });
    await sweepAttachments({ prisma, storage });
    expect(await filesOf(conversationId)).toHaveLength(2);
    expect(await prisma.attachmentFileDeletion.count({ where: { storageKey: { startsWith: conversationId } } })).toBe(0);
  });

  it.skipIf(!onPostgres)("two sends racing for one file on two connections: one gets it", async () => {
    const { ana, conversationId } = await pair("race-pg");
    const file = (await upload(ana.id, conversationId, "raced.png", await png(20, 20))).attachment!;
    const second = createDatabase(t.database.connectionString, { poolSize: 2 });
    try {
      const realtime = { publish: async () => undefined };
      const writers = [new MessageWriter({ prisma: t.server.database.prisma, realtime }), new MessageWriter({ prisma: second.prisma, realtime })];
      const sent = await Promise.all(
        writers.map((writer, n) =>
          writer.write({ senderId: ana.id, conversationId, clientMessageId: `race-pg-${n}`, content: "", attachments: [file] }),
        ),
      );
      expect(sent.filter((message) => message !== null)).toHaveLength(1);
      const claimed = await t.server.database.prisma.attachment.findUniqueOrThrow({ where: { id: file.id } });
      expect(claimed.messageId).toBe(sent.find((message) => message !== null)!.id);
    } finally {
      await second.close();
    }
  });

  it.skipIf(!onPostgres)("the sweep leaves an old unsent file that a send claims while it runs", async () => {
    const prisma = t.server.database.prisma;
    const { ana, anaClient, conversationId } = await pair("sweep-race");
    const file = (await upload(ana.id, conversationId, "late.png", await png(20, 20))).attachment!;
    await prisma.attachment.update({ where: { id: file.id }, data: { createdAt: new Date(Date.now() - 25 * 3600 * 1000) } });
    const carrier = await anaClient.api.messages.send.mutate({ conversationId, content: "carrier", clientMessageId: "sweep-race-1" });
    // A send's claim, held open across the sweep.
    const claimer = new pg.Client({ connectionString: t.database.connectionString });
    await claimer.connect();
    try {
      await claimer.query("BEGIN");
      await claimer.query("UPDATE attachments SET message_id = $1 WHERE id = $2", [carrier.id, file.id]);
      const sweeping = sweepAttachments({ prisma, storage });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await claimer.query("COMMIT");
      await sweeping;
      await sweepAttachments({ prisma, storage });
    } finally {
      await claimer.end();
    }
    expect(await prisma.attachment.count({ where: { id: file.id } })).toBe(1);
    expect(await filesOf(conversationId)).toHaveLength(2);
  });
});
