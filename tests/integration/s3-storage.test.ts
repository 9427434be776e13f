import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { S3AttachmentStorage } from "~/features/attachments/storage/s3-storage";
import { describeAttachmentStorageContract } from "~/features/attachments/storage/storage-contract";
import { logger } from "~/server/logger";
import { startS3TestServer, type S3TestServer } from "../helpers/s3-server";

// S3AttachmentStorage against an S3-compatible server over HTTP: s3rver on loopback,
// or the server S3_TEST_ENDPOINT names (see tests/helpers/s3-server.ts). Each
// storage gets a prefix of its own, so a shared bucket is fine.

let server: S3TestServer;
const runPrefix = `chatline-test-${randomUUID()}`;

beforeAll(async () => {
  server = await startS3TestServer();
});

afterAll(async () => {
  if (server?.kind === "external") await server.clear(`${runPrefix}/`);
  await server?.close();
});

function newStorage(prefix = `${runPrefix}/${randomUUID()}/`): { storage: S3AttachmentStorage; prefix: string } {
  return { storage: new S3AttachmentStorage({ ...server.config, prefix }), prefix };
}

describeAttachmentStorageContract("S3AttachmentStorage", async () => {
  const { storage, prefix } = newStorage();
  return {
    storage,
    leftovers: () => server.pendingUploads(prefix),
    async cleanup() {
      storage.destroy();
      await server.clear(prefix);
    },
  };
});

/**
 * The commands the storage's client sends: each once, with its input, and the
 * headers and body of its last attempt as they went on the wire (after checksums
 * and signing). s3rver sometimes answers a DeleteObjects with a 500 when two of its
 * deletions race to remove the same emptied folder; the SDK's retry covers that.
 */
function recordCommands(storage: S3AttachmentStorage) {
  type Sent = { command: string; input: Record<string, unknown>; headers: Record<string, string>; body: unknown };
  const sent: Sent[] = [];
  const byInvocation = new WeakMap<object, Sent>();
  storage.client.middlewareStack.add(
    (next, context) => async (args) => {
      const entry: Sent = { command: context.commandName ?? "", input: args.input as Record<string, unknown>, headers: {}, body: undefined };
      sent.push(entry);
      byInvocation.set(context, entry);
      return next(args);
    },
    { step: "initialize", name: "recordCommandsForTest" },
  );
  storage.client.middlewareStack.add(
    (next, context) => async (args) => {
      const entry = byInvocation.get(context);
      const request = args.request as { headers: Record<string, string>; body: unknown };
      if (entry) Object.assign(entry, { headers: { ...request.headers }, body: request.body });
      return next(args);
    },
    { step: "deserialize", name: "recordRequestsForTest" },
  );
  return sent;
}

function failingAfter(bytes: number, error: Error): Readable {
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent < bytes) {
        const chunk = Buffer.alloc(Math.min(64 * 1024, bytes - sent), 7);
        sent += chunk.length;
        this.push(chunk);
      } else setTimeout(() => body.destroy(error), 20);
    },
  });
  return body;
}

describe("S3AttachmentStorage on an S3 server", () => {
  const made: S3AttachmentStorage[] = [];
  const use = (prefix?: string) => {
    const created = newStorage(prefix);
    made.push(created.storage);
    return created;
  };

  afterEach(() => {
    for (const storage of made.splice(0)) storage.destroy();
  });

  it("keeps objects under its prefix, as a folder", async () => {
    const base = `${runPrefix}/${randomUUID()}`;
    // Slashes around the prefix are optional.
    const { storage } = use(`/${base}`);
    await storage.put("c1/a1", Readable.from([Buffer.from("in the folder")]), { contentType: "text/plain" });

    const listed = await server.client.send(new ListObjectsV2Command({ Bucket: server.config.bucket, Prefix: `${base}` }));
    expect(listed.Contents?.map((object) => object.Key)).toEqual([`${base}/c1/a1`]);
    const object = await server.client.send(new GetObjectCommand({ Bucket: server.config.bucket, Key: `${base}/c1/a1` }));
    expect(await object.Body?.transformToString()).toBe("in the folder");
    expect(object.ContentType).toBe("text/plain");

    // And reads what others put there.
    await server.client.send(new PutObjectCommand({ Bucket: server.config.bucket, Key: `${base}/c1/a2`, Body: "from outside" }));
    const stored = await storage.get("c1/a2");
    expect(stored?.size).toBe(12);
    expect(Buffer.concat(await stored!.body.toArray()).toString()).toBe("from outside");
  });

  it("aborts the multipart upload of a body that fails after its first part", async () => {
    const { storage, prefix } = use();
    const sent = recordCommands(storage);
    const error = new Error("client went away");

    await expect(storage.put("c1/a1", failingAfter(12 * 1024 * 1024, error), { contentType: "video/mp4" })).rejects.toBe(error);

    const commands = sent.map((entry) => entry.command);
    expect(commands).toContain("UploadPartCommand");
    expect(commands).not.toContain("CompleteMultipartUploadCommand");
    expect(commands).not.toContain("PutObjectCommand");
    const created = sent.find((entry) => entry.command === "CreateMultipartUploadCommand");
    const aborted = sent.find((entry) => entry.command === "AbortMultipartUploadCommand");
    expect(aborted?.input).toMatchObject({ Key: `${prefix}c1/a1`, UploadId: expect.any(String) });
    expect(created?.input).toMatchObject({ Key: `${prefix}c1/a1`, ContentType: "video/mp4" });
    expect(await server.pendingUploads(prefix)).toEqual([]);
    expect(await storage.get("c1/a1")).toBeNull();
  });

  it.skipIf(process.env.S3_TEST_ENDPOINT)("still rejects with the body's error when the abort is refused, and says so", async () => {
    const { storage, prefix } = use();
    const warn = vi.spyOn(logger, "warn").mockImplementation(() => undefined);
    server.refuseAborts(1);
    const error = new Error("client went away");

    try {
      await expect(storage.put("c1/a1", failingAfter(6 * 1024 * 1024, error), { contentType: "text/plain" })).rejects.toBe(error);
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ key: `${prefix}c1/a1`, err: expect.objectContaining({ name: "AccessDenied" }) }),
        expect.stringContaining("multipart upload"),
      );
    } finally {
      warn.mockRestore();
      server.refuseAborts(0);
    }
    // The parts stay, as they would on S3; the object never appears.
    expect(await server.pendingUploads(prefix)).toEqual([`${prefix}c1/a1`]);
    expect(await storage.get("c1/a1")).toBeNull();
  });

  it("uploads in parts of 5 MiB with at most two in flight", async () => {
    const { storage } = use();
    const sent = recordCommands(storage);
    let inFlight = 0;
    let mostInFlight = 0;
    storage.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "UploadPartCommand") return next(args);
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        try {
          return await next(args);
        } finally {
          inFlight -= 1;
        }
      },
      { step: "initialize", name: "countPartsInFlightForTest" },
    );
    const size = 17 * 1024 * 1024;

    await storage.put("c1/a1", Readable.from(chunks(size)), { contentType: "application/zip" });

    const parts = sent.filter((entry) => entry.command === "UploadPartCommand");
    expect(parts.map((entry) => (entry.input.Body as Buffer).length)).toEqual([5, 5, 5, 2].map((mib) => mib * 1024 * 1024));
    expect(mostInFlight).toBeGreaterThanOrEqual(1);
    expect(mostInFlight).toBeLessThanOrEqual(2);
    expect((await storage.get("c1/a1"))?.size).toBe(size);
  });

  it("deletes in batches of at most 1000 keys, sent with Content-MD5 and no CRC32", async () => {
    const { storage } = use();
    const keys = Array.from({ length: 1003 }, (_, index) => `c${index % 7}/a${index}`);
    // Objects at both ends of both batches; the other keys have nothing under them.
    const stored = [keys[0]!, keys[999]!, keys[1000]!, keys[1002]!];
    for (const key of stored) await storage.put(key, Readable.from([Buffer.from(key)]), { contentType: "text/plain" });
    const sent = recordCommands(storage);

    await storage.delete([...keys, "c1/missing"]);

    const batches = sent.filter((entry) => entry.command === "DeleteObjectsCommand");
    expect(batches.map((entry) => ((entry.input.Delete as { Objects: unknown[] }).Objects).length)).toEqual([1000, 4]);
    for (const batch of batches) {
      const headers = Object.fromEntries(Object.entries(batch.headers).map(([name, value]) => [name.toLowerCase(), value]));
      expect(headers["content-md5"]).toBe(createHash("md5").update(batch.body as string).digest("base64"));
      expect(Object.keys(headers).filter((name) => name.startsWith("x-amz-checksum") || name === "x-amz-sdk-checksum-algorithm")).toEqual([]);
    }
    for (const key of stored) expect(await storage.get(key), key).toBeNull();
  });

  it("sends uploads without the SDK's default CRC32, their payload signed instead", async () => {
    const { storage } = use();
    const sent = recordCommands(storage);

    await storage.put("c1/small", Readable.from([Buffer.from("small")]), { contentType: "text/plain" });
    await storage.put("c1/large", Readable.from(chunks(6 * 1024 * 1024)), { contentType: "text/plain" });
    await storage.get("c1/small").then((object) => object?.body.destroy());

    for (const entry of sent) {
      const names = Object.keys(entry.headers).map((name) => name.toLowerCase());
      expect(names.filter((name) => name.startsWith("x-amz-checksum") || name === "x-amz-sdk-checksum-algorithm"), entry.command).toEqual([]);
      if (entry.command === "PutObjectCommand" || entry.command === "UploadPartCommand") {
        const hash = Object.entries(entry.headers).find(([name]) => name.toLowerCase() === "x-amz-content-sha256")?.[1];
        expect(hash, entry.command).toBe(createHash("sha256").update(entry.body as Buffer).digest("hex"));
      }
    }
    expect(sent.map((entry) => entry.command)).toEqual(
      expect.arrayContaining(["PutObjectCommand", "CreateMultipartUploadCommand", "UploadPartCommand", "CompleteMultipartUploadCommand", "GetObjectCommand"]),
    );
  });

  it("fails, rather than reading as missing, when the bucket does not exist", async () => {
    const storage = new S3AttachmentStorage({ ...server.config, bucket: `missing-${randomUUID().slice(0, 8)}` });
    made.push(storage);
    // Larger than a part, so the failure comes with most of the body still unread.
    const body = Readable.from(chunks(12 * 1024 * 1024));

    await expect(storage.get("c1/a1")).rejects.toMatchObject({ name: "NoSuchBucket" });
    await expect(storage.put("c1/a1", body, { contentType: "text/plain" })).rejects.toMatchObject({ name: "NoSuchBucket" });
    expect(body.destroyed).toBe(true);
  });

  it("refuses half a set of credentials and a missing bucket at construction", () => {
    expect(() => new S3AttachmentStorage({ ...server.config, secretAccessKey: undefined })).toThrow(/both/);
    expect(() => new S3AttachmentStorage({ ...server.config, bucket: "" })).toThrow(/bucket/);
  });
});

function* chunks(size: number): Generator<Buffer> {
  for (let sent = 0; sent < size; sent += 256 * 1024) yield Buffer.alloc(Math.min(256 * 1024, size - sent), sent % 251);
}
