import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { AttachmentStorage, StoredObject } from "./attachment-storage";

// Files on the local disk (DATA_DIR/uploads by default). A file is written
// under a temporary name and renamed into place once complete, so a reader never
// sees half a file and a failed write leaves at most a `.part` file, which
// removeStalePartFiles clears (a process killed mid-write cannot clean up).

const PART_SUFFIX = ".part";

/** Keys are ours; this refuses anything that could leave the directory. */
export function checkStorageKey(key: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(key) || key.includes("..") || key.length > 512) {
    throw new Error(`Not a storage key: ${JSON.stringify(key)}`);
  }
  return key;
}

export class LocalAttachmentStorage implements AttachmentStorage {
  readonly kind = "local";

  constructor(readonly root: string) {}

  private pathOf(key: string): string {
    return path.join(this.root, ...checkStorageKey(key).split("/"));
  }

  async put(key: string, body: Readable, _options: { contentType: string }): Promise<void> {
    // Listening before the first await: a body that fails meanwhile (a refused
    // upload fails within its first chunk) must fail this put, not the process.
    let bodyError: unknown;
    const remember = (error: unknown) => void (bodyError ??= error);
    body.on("error", remember);
    const target = this.pathOf(key);
    const part = `${target}.${randomBytes(6).toString("hex")}${PART_SUFFIX}`;
    try {
      await mkdir(path.dirname(target), { recursive: true });
      if (bodyError !== undefined) throw bodyError;
      await pipeline(body, createWriteStream(part, { flags: "wx" }));
      await rename(part, target);
    } catch (error) {
      body.destroy();
      await rm(part, { force: true });
      throw bodyError ?? error;
    } finally {
      body.off("error", remember);
    }
  }

  async get(key: string): Promise<StoredObject | null> {
    const file = this.pathOf(key);
    try {
      const info = await stat(file);
      if (!info.isFile()) return null;
      return { body: createReadStream(file), size: info.size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await unlink(this.pathOf(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
  }

  /** Deletes `.part` files older than `olderThanMs` (writes a stopped process left behind). */
  async removeStalePartFiles(olderThanMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    const visit = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw error;
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await visit(full);
        else if (entry.name.endsWith(PART_SUFFIX)) {
          const info = await stat(full).catch(() => null);
          if (info && now - info.mtimeMs > olderThanMs) {
            await rm(full, { force: true });
            removed += 1;
          }
        }
      }
    };
    await visit(this.root);
    return removed;
  }
}
