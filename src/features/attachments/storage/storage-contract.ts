import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AttachmentStorage, StoredObject } from "./attachment-storage";

// What every AttachmentStorage must do, as a vitest suite: each implementation's
// test file calls describeAttachmentStorageContract with a factory. Each test gets
// a storage of its own (a fresh directory, a fresh prefix).

export interface StorageUnderTest {
  storage: AttachmentStorage;
  cleanup(): Promise<void>;
  /**
   * What failed writes left behind beside the objects (local: `.part` files; S3:
   * unfinished multipart uploads). Checked after every failed put.
   */
  leftovers?(): Promise<string[]>;
}

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const TYPE = { contentType: "application/octet-stream" };

/** `size` random bytes in chunks, as an upload arrives; `expected()` is what was read from it. */
function generatedBody(size: number): { body: Readable; expected(): { sha256: string; size: number } } {
  const hash = createHash("sha256");
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(CHUNK, size - sent));
      hash.update(chunk);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  return { body, expected: () => ({ sha256: hash.copy().digest("hex"), size: sent }) };
}

/**
 * A body that delivers `failAfter` bytes, then stalls, and is then destroyed with
 * `error` from outside, as when the uploading client goes away or a size limit is hit.
 */
function failingBody(failAfter: number, error: Error): { body: Readable; sent(): number } {
  let sent = 0;
  let failing = false;
  const body = new Readable({
    read() {
      if (sent < failAfter) {
        const chunk = randomBytes(Math.min(CHUNK, failAfter - sent));
        sent += chunk.length;
        this.push(chunk);
      } else if (!failing) {
        failing = true;
        setTimeout(() => body.destroy(error), 20);
      }
    },
  });
  return { body, sent: () => sent };
}

function bodyOf(text: string): Readable {
  return Readable.from([Buffer.from(text)]);
}

/** Reads the whole object; null stays null. */
async function read(object: StoredObject | null): Promise<{ sha256: string; length: number; size: number; text: string } | null> {
  if (!object) return null;
  const hash = createHash("sha256");
  const head: Buffer[] = [];
  let length = 0;
  for await (const chunk of object.body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (length < 4096) head.push(chunk);
    length += chunk.length;
  }
  return { sha256: hash.digest("hex"), length, size: object.size, text: Buffer.concat(head).subarray(0, 4096).toString("utf8") };
}

export function describeAttachmentStorageContract(name: string, make: () => Promise<StorageUnderTest>): void {
  describe(`${name}: the attachment storage contract`, () => {
    let subject: StorageUnderTest;
    let storage: AttachmentStorage;

    beforeEach(async () => {
      subject = await make();
      storage = subject.storage;
    });

    afterEach(async () => {
      await subject?.cleanup();
    });

    const leftovers = async () => (subject.leftovers ? subject.leftovers() : []);

    it("gives back what was stored, with its size", async () => {
      await storage.put("c1/a1", bodyOf("hello, world"), { contentType: "text/plain" });

      const stored = await read(await storage.get("c1/a1"));
      expect(stored).toMatchObject({ text: "hello, world", length: 12, size: 12 });
    });

    it("streams a body of several parts (12 MiB) through intact", async () => {
      const generated = generatedBody(12 * MiB);
      await storage.put("c1/big", generated.body, TYPE);

      expect(generated.expected().size).toBe(12 * MiB);
      const stored = await read(await storage.get("c1/big"));
      expect(stored).toMatchObject({ sha256: generated.expected().sha256, length: 12 * MiB, size: 12 * MiB });
    });

    it("stores an empty body", async () => {
      await storage.put("c1/empty", Readable.from([]), TYPE);

      expect(await read(await storage.get("c1/empty"))).toMatchObject({ length: 0, size: 0 });
    });

    it("has nothing under a key never stored, nor under a folder of other keys", async () => {
      expect(await storage.get("c1/never")).toBeNull();
      await storage.put("c1/a1", bodyOf("x"), TYPE);
      expect(await storage.get("c1")).toBeNull();
      expect(await storage.get("c1/a")).toBeNull();
    });

    it("keeps keys with slashes apart", async () => {
      await storage.put("c1/a1", bodyOf("file"), TYPE);
      await storage.put("c1/a1.thumb", bodyOf("thumbnail"), TYPE);
      await storage.put("c1/sub/deeper/a1", bodyOf("nested"), TYPE);
      await storage.put("c2/a1", bodyOf("other conversation"), TYPE);

      expect((await read(await storage.get("c1/a1")))?.text).toBe("file");
      expect((await read(await storage.get("c1/a1.thumb")))?.text).toBe("thumbnail");
      expect((await read(await storage.get("c1/sub/deeper/a1")))?.text).toBe("nested");
      expect((await read(await storage.get("c2/a1")))?.text).toBe("other conversation");
    });

    it("replaces an object written again under its key, shorter or longer", async () => {
      await storage.put("c1/a1", generatedBody(2 * MiB).body, TYPE);
      await storage.put("c1/a1", bodyOf("short now"), TYPE);
      expect(await read(await storage.get("c1/a1"))).toMatchObject({ text: "short now", size: 9, length: 9 });

      const longer = generatedBody(6 * MiB);
      await storage.put("c1/a1", longer.body, TYPE);
      expect(await read(await storage.get("c1/a1"))).toMatchObject({ sha256: longer.expected().sha256, size: 6 * MiB });
    });

    it("deletes several keys at once, skipping missing ones and leaving the rest", async () => {
      for (const key of ["c1/a1", "c1/a1.thumb", "c1/a2", "c2/a1"]) await storage.put(key, bodyOf(key), TYPE);

      await storage.delete(["c1/a1", "c1/a1.thumb", "c1/missing", "c9/missing", "c1/a1"]);

      expect(await storage.get("c1/a1")).toBeNull();
      expect(await storage.get("c1/a1.thumb")).toBeNull();
      expect((await read(await storage.get("c1/a2")))?.text).toBe("c1/a2");
      expect((await read(await storage.get("c2/a1")))?.text).toBe("c2/a1");
    });

    it("deletes nothing, or a key never stored, without complaint", async () => {
      await storage.delete([]);
      await storage.delete(["c1/never"]);
      await storage.put("c1/a1", bodyOf("x"), TYPE);
      await storage.delete(["c1/a1"]);
      await storage.delete(["c1/a1"]);
      expect(await storage.get("c1/a1")).toBeNull();
    });

    it("keeps nothing of a body that fails after several MiB, and rejects with the body's own error", async () => {
      const error = new Error("upload cancelled by the client");
      const failing = failingBody(7 * MiB, error);

      await expect(storage.put("c1/a1", failing.body, TYPE)).rejects.toBe(error);

      // It failed midway: past the first 5 MiB, so past a whole part.
      expect(failing.sent()).toBe(7 * MiB);
      expect(failing.body.destroyed).toBe(true);
      expect(await storage.get("c1/a1")).toBeNull();
      expect(await leftovers()).toEqual([]);
    });

    it("keeps nothing of a body that fails within its first MiB", async () => {
      const error = Object.assign(new Error("File too large"), { code: "LIMIT" });
      const failing = failingBody(MiB, error);

      await expect(storage.put("c1/a1", failing.body, TYPE)).rejects.toBe(error);

      expect(failing.sent()).toBe(MiB);
      expect(await storage.get("c1/a1")).toBeNull();
      expect(await leftovers()).toEqual([]);
    });

    it("keeps the previous object when writing over it fails", async () => {
      await storage.put("c1/a1", bodyOf("the original"), TYPE);
      const error = new Error("cancelled");

      await expect(storage.put("c1/a1", failingBody(6 * MiB, error).body, TYPE)).rejects.toBe(error);

      expect(await read(await storage.get("c1/a1"))).toMatchObject({ text: "the original", size: 12 });
      expect(await leftovers()).toEqual([]);
    });

    it("refuses keys that are not ours", async () => {
      for (const key of ["", "../x", "/abs", "c1//a1", "c1/../a1", "c1/a1/"]) {
        await expect(storage.put(key, bodyOf("x"), TYPE), key).rejects.toThrow(/storage key/);
        await expect(storage.get(key), key).rejects.toThrow(/storage key/);
        await expect(storage.delete([key]), key).rejects.toThrow(/storage key/);
      }
    });
  });
}
