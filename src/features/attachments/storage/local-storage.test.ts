import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkStorageKey, LocalAttachmentStorage } from "./local-storage";
import { describeAttachmentStorageContract } from "./storage-contract";

/** Every file under `dir`, as paths relative to it with "/" between folders. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

describeAttachmentStorageContract("LocalAttachmentStorage", async () => {
  const root = await mkdtemp(path.join(tmpdir(), "chatline-uploads-"));
  return {
    storage: new LocalAttachmentStorage(root),
    leftovers: async () => (await filesUnder(root)).filter((file) => file.endsWith(".part")),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe("LocalAttachmentStorage.removeStalePartFiles", () => {
  let root: string;
  let storage: LocalAttachmentStorage;
  const now = Date.UTC(2026, 11, 6, 12, 0, 0);
  const hour = 60 * 60 * 1000;

  async function fileAged(relative: string, ageMs: number): Promise<void> {
    const file = path.join(root, ...relative.split("/"));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, "bytes");
    const time = new Date(now - ageMs);
    await utimes(file, time, time);
  }

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "chatline-uploads-"));
    storage = new LocalAttachmentStorage(root);
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("removes old .part files at any depth and keeps fresh ones and finished files", async () => {
    await fileAged("c1/a1.0a1b2c3d4e5f.part", 3 * hour);
    await fileAged("c1/deeper/a2.ffeeddccbbaa.part", 25 * hour);
    await fileAged("c1/a3.123456789abc.part", 10 * 60 * 1000);
    await fileAged("c1/a1", 48 * hour);
    await fileAged("c2/a1.thumb", 48 * hour);
    await fileAged("c2/partial", 48 * hour);

    const removed = await storage.removeStalePartFiles(hour, now);

    expect(removed).toBe(2);
    expect(await filesUnder(root)).toEqual(["c1/a1", "c1/a3.123456789abc.part", "c2/a1.thumb", "c2/partial"]);
  });

  it("uses the age it is given, to the millisecond", async () => {
    await fileAged("c1/a1.aaaaaaaaaaaa.part", hour + 1000);
    await fileAged("c1/a2.bbbbbbbbbbbb.part", hour - 1000);

    expect(await storage.removeStalePartFiles(hour, now)).toBe(1);
    expect(await filesUnder(root)).toEqual(["c1/a2.bbbbbbbbbbbb.part"]);
  });

  it("finds nothing to do in a directory not made yet", async () => {
    const missing = new LocalAttachmentStorage(path.join(root, "not-yet"));
    expect(await missing.removeStalePartFiles(hour, now)).toBe(0);
    await expect(stat(path.join(root, "not-yet"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("checkStorageKey", () => {
  it("accepts our keys", () => {
    for (const key of ["c1/a1", "c1/a1.thumb", "clx0abc_12-3/att.9", "single"]) expect(checkStorageKey(key)).toBe(key);
  });

  it("refuses keys that could leave the directory or are not ours", () => {
    for (const key of ["", "../x", "/abs", "a//b", "a/../b", "a/./b", "a/", ".hidden", "a\\b", "C:/x", "a b", "a/b\n", "x".repeat(513)]) {
      expect(() => checkStorageKey(key), JSON.stringify(key)).toThrow(/Not a storage key/);
    }
  });
});
