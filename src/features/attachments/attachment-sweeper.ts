import type { Db } from "~/server/db/client";
import { logger } from "~/server/logger";
import { deleteStoredFiles } from "./attachments.service";
import type { AttachmentStorage } from "./storage/attachment-storage";
import { LocalAttachmentStorage } from "./storage/local-storage";

// What retention runs for attachments: uploads nobody finished or sent are
// deleted, and the files of deleted rows (queued by the attachments_queue_files rule, from a deleted
// message, retention, a deleted conversation) are deleted from the storage.

/** An upload still receiving after this long was cut off with its server. */
export const ABANDONED_UPLOAD_MS = 60 * 60 * 1000;
/** A finished upload no message sent within this long was given up (the composer was closed). */
export const UNSENT_UPLOAD_MS = 24 * 60 * 60 * 1000;
const BATCH = 500;

export interface AttachmentSweepResult {
  abandonedUploads: number;
  filesDeleted: number;
}

export async function sweepAttachments(deps: { prisma: Db; storage: AttachmentStorage }, now = new Date()): Promise<AttachmentSweepResult> {
  const abandonedBefore = new Date(now.getTime() - ABANDONED_UPLOAD_MS);
  const unsentBefore = new Date(now.getTime() - UNSENT_UPLOAD_MS);
  let abandonedUploads = 0;
  for (;;) {
    // A send claiming one of them meanwhile holds its row: skipped (SKIP LOCKED), and the
    // conditions are repeated outside, where a row changed by a commit is checked again.
    const removed = await deps.prisma.$executeRaw`
      DELETE FROM attachments a WHERE a.id IN (
        SELECT id FROM attachments
         WHERE (status = 'UPLOADING' AND created_at < ${abandonedBefore})
            OR (status = 'READY' AND message_id IS NULL AND created_at < ${unsentBefore})
         ORDER BY created_at LIMIT ${BATCH}
         FOR UPDATE SKIP LOCKED)
        AND ((a.status = 'UPLOADING' AND a.created_at < ${abandonedBefore})
          OR (a.status = 'READY' AND a.message_id IS NULL AND a.created_at < ${unsentBefore}))`;
    abandonedUploads += removed;
    if (removed < BATCH) break;
  }
  let filesDeleted = 0;
  let after = "";
  for (;;) {
    // Keyset order: a key the storage keeps refusing does not stop the ones after it.
    const queued = await deps.prisma.$queryRaw<{ storage_key: string }[]>`
      SELECT storage_key FROM attachment_file_deletions WHERE storage_key > ${after} ORDER BY storage_key LIMIT ${BATCH}`;
    if (queued.length === 0) break;
    const keys = queued.map((row) => row.storage_key);
    try {
      await deleteStoredFiles(deps, keys);
      filesDeleted += keys.length;
    } catch (error) {
      logger.warn({ err: error, keys: keys.length }, "deleting queued attachment files failed; the next sweep retries");
    }
    after = keys[keys.length - 1]!;
    if (queued.length < BATCH) break;
  }
  if (deps.storage instanceof LocalAttachmentStorage) await deps.storage.removeStalePartFiles(ABANDONED_UPLOAD_MS, now.getTime());
  return { abandonedUploads, filesDeleted };
}
