import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { afterAll, beforeAll, expect, it } from "vitest";
import { handleDownload, handleUpload, type AttachmentRouteDeps } from "~/features/attachments/attachment-routes";
import type { Attachment } from "~/features/attachments/contracts";
import { attachmentRuntime } from "~/features/attachments/runtime";
import { bodyOf, png, sha } from "../helpers/attachment-files";
import { startS3TestServer, type S3TestServer } from "../helpers/s3-server";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// The app with S3_* set: uploads, thumbnails, downloads and a deleted message's
// files go through the bucket (a real S3-compatible server on loopback), as
// attachments.test.ts checks them on the local disk.

let s3: S3TestServer;
let app: TestServer;
let deps: AttachmentRouteDeps;
const prefix = `app-${Date.now()}/`;

beforeAll(async () => {
  s3 = await startS3TestServer();
  app = await startTestServer({
    RETENTION_INTERVAL_MS: "0",
    MESSAGING_ALLOW_FILE_ATTACHMENTS: "true",
    S3_BUCKET: s3.config.bucket,
    S3_REGION: s3.config.region,
    S3_ENDPOINT: s3.config.endpoint,
    S3_ACCESS_KEY_ID: s3.config.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.config.secretAccessKey,
    S3_FORCE_PATH_STYLE: String(s3.config.forcePathStyle),
    S3_PREFIX: prefix,
  });
  const runtime = attachmentRuntime()!;
  deps = { prisma: app.server.database.prisma, storage: runtime.storage, allowedOrigins: runtime.allowedOrigins };
});
afterAll(async () => {
  await app?.close();
  await s3?.clear(prefix).catch(() => undefined);
  await s3?.close();
});

it("stores, serves and deletes files in the bucket", async () => {
  expect(deps.storage.kind).toBe("s3");
  const [ana, ben] = await Promise.all([app.createUser({ name: "S3 Ana" }), app.createUser({ name: "S3 Ben" })]);
  const anaClient = await app.client({ userId: ana.id, origin: TEST_APP_ORIGIN });
  const { id: conversationId } = await anaClient.api.conversations.createDirect.mutate({ recipientId: ben.id });
  const image = await png(900, 600);
  const post = new Request(`${TEST_APP_ORIGIN}/api/attachments?conversationId=${conversationId}&name=s3.png`, {
    method: "POST",
    headers: { cookie: await app.sessionCookie(ana.id), "content-length": String(image.length) },
    body: bodyOf(image),
    duplex: "half",
  } as RequestInit);
  const uploaded = (await (await handleUpload(post, deps)).json()) as { attachment: Attachment };
  expect(uploaded.attachment).toMatchObject({ width: 900, height: 600, hasThumbnail: true });
  const message = await anaClient.api.messages.send.mutate({ conversationId, content: "", clientMessageId: "s3-1", attachmentIds: [uploaded.attachment.id] });
  const get = async (variant: "file" | "thumbnail") => {
    const url = `${TEST_APP_ORIGIN}/api/attachments/${uploaded.attachment.id}${variant === "thumbnail" ? "/thumbnail" : ""}`;
    const response = await handleDownload(new Request(url, { headers: { cookie: await app.sessionCookie(ben.id) } }), deps, uploaded.attachment.id, variant);
    return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
  };
  expect(sha((await get("file")).bytes)).toBe(sha(image));
  expect((await sharp((await get("thumbnail")).bytes).metadata()).width).toBe(640);
  const keys = async () => {
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.config.bucket, Prefix: prefix }));
    return (listed.Contents ?? []).map((object) => object.Key).sort();
  };
  expect(await keys()).toEqual([`${prefix}${conversationId}/${uploaded.attachment.id}`, `${prefix}${conversationId}/${uploaded.attachment.id}.thumb.webp`]);
  await anaClient.api.messages.delete.mutate({ messageId: message.id });
  await expect.poll(keys).toEqual([]);
  expect((await get("file")).status).toBe(404);
});
