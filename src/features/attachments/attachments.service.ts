import type { SessionUser } from "~/features/auth/contracts";
import type { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";
import { DomainError } from "~/server/errors";
import { logger } from "~/server/logger";
import type { Attachment } from "./contracts";
import type { AttachmentStorage, StoredObject } from "./storage/attachment-storage";

// Who may see an attachment, which ones a message may send, and removing them.
// Rows are the truth: a file is served only through a row the caller may see,
// and deleting a row (whatever deletes it) queues its files for deletion from
// the storage (the attachments_queue_files rule; never DELETE them inside WITH, where the rule cannot apply).

interface AttachmentRow {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
  thumbnailKey: string | null;
}

export function toAttachment(row: AttachmentRow): Attachment {
  return {
    id: row.id,
    name: row.fileName,
    contentType: row.contentType,
    size: row.size,
    width: row.width,
    height: row.height,
    hasThumbnail: row.thumbnailKey !== null,
  };
}

type Reader = Db | Prisma.TransactionClient;

/**
 * The descriptors of the files a send names, in its order: each uploaded by the
 * sender to this conversation, complete and not sent yet. The send statement
 * claims them under lock (message-writer.ts); this is the early, clear refusal.
 */
export async function attachmentsForSend(
  prisma: Reader,
  senderId: string,
  conversationId: string,
  ids: readonly string[],
): Promise<Attachment[]> {
  if (ids.length === 0) return [];
  const wanted = ids.map((id) => id.toLowerCase());
  const rows = await prisma.attachment.findMany({
    where: { id: { in: wanted }, uploaderId: senderId, conversationId, status: "READY", messageId: null },
  });
  const byId = new Map(rows.map((row) => [row.id, row]));
  const missing = wanted.filter((id) => !byId.has(id));
  if (missing.length > 0) {
    throw new DomainError(
      "BAD_REQUEST",
      missing.length === 1
        ? "One of the files is no longer available (already sent, removed, or not finished uploading). Attach it again."
        : `${missing.length} of the files are no longer available (already sent, removed, or not finished uploading). Attach them again.`,
    );
  }
  return wanted.map((id) => toAttachment(byId.get(id)!));
}

export interface ServedFile {
  attachment: Attachment;
  /** The file or its thumbnail. */
  object: StoredObject;
}

/**
 * An attachment's file or thumbnail for `user`, checked on every request: a sent
 * file to the members of its conversation while its message stands, an unsent
 * one to its uploader. Anyone else gets NOT_FOUND, as for a file that does not exist.
 */
export async function openAttachment(
  deps: { prisma: Db; storage: AttachmentStorage },
  user: SessionUser,
  attachmentId: string,
  variant: "file" | "thumbnail",
): Promise<ServedFile> {
  const row = await deps.prisma.attachment.findFirst({
    where: {
      id: attachmentId.toLowerCase(),
      status: "READY",
      OR: [
        { messageId: null, uploaderId: user.id },
        {
          message: { deletedAt: null },
          conversation: { participants: { some: { userId: user.id, leftAt: null } } },
        },
      ],
    },
  });
  const key = variant === "thumbnail" ? row?.thumbnailKey : row?.storageKey;
  const object = row && key ? await deps.storage.get(key) : null;
  if (!row || !object) throw new DomainError("NOT_FOUND", "That file does not exist.");
  return { attachment: toAttachment(row), object };
}

/** Takes back a file its uploader has not sent (removed from the composer). */
export async function removeUnsentUpload(deps: { prisma: Db; storage: AttachmentStorage }, user: SessionUser, attachmentId: string) {
  const removed = await discardUnsent(deps, { ids: [attachmentId.toLowerCase()], uploaderId: user.id });
  if (removed === 0) throw new DomainError("NOT_FOUND", "That file does not exist or was already sent.");
}

/**
 * Deletes the unsent attachments `ids` (of `uploaderId`, when given) and at once
 * their files (and any `extraKeys`). One statement decides, so a send that claims
 * one meanwhile keeps it. A storage failure leaves the queue entries for the sweep.
 * Returns how many it deleted.
 */
export async function discardUnsent(
  deps: { prisma: Db; storage: AttachmentStorage },
  which: { ids: readonly string[]; uploaderId?: string },
  extraKeys: readonly string[] = [],
): Promise<number> {
  const deleted = await deps.prisma.$queryRaw<{ storage_key: string; thumbnail_key: string | null }[]>`
    DELETE FROM attachments
     WHERE id = ANY(${[...which.ids]}::uuid[]) AND message_id IS NULL
       AND (${which.uploaderId ?? null}::uuid IS NULL OR uploader_id = ${which.uploaderId ?? null}::uuid)
    RETURNING storage_key, thumbnail_key`;
  const keys = [...new Set([...deleted.flatMap((row) => (row.thumbnail_key ? [row.storage_key, row.thumbnail_key] : [row.storage_key])), ...extraKeys])];
  await deleteStoredFiles(deps, keys);
  return deleted.length;
}

/**
 * Deletes from the storage the files of `keys` that no attachment row refers to,
 * then their entries in the deletion queue. The queue is a hint, not an order: the
 * rule that fills it runs before the DELETE that fires it, which may then leave a
 * row standing (a send claimed it first). Such an entry is dropped while its row
 * still stands; one whose row has just gone stays for the next sweep.
 */
export async function deleteStoredFiles(deps: { prisma: Db; storage: AttachmentStorage }, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const unreferenced = await deps.prisma.$queryRaw<{ key: string }[]>`
    SELECT k AS key FROM unnest(${[...keys]}::text[]) AS k
     WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.storage_key = k OR a.thumbnail_key = k)`;
  const deletable = unreferenced.map((row) => row.key);
  if (deletable.length > 0) await deps.storage.delete(deletable);
  await deps.prisma.$executeRaw`
    DELETE FROM attachment_file_deletions q
     WHERE q.storage_key = ANY(${deletable}::text[])
        OR (q.storage_key = ANY(${[...keys]}::text[])
            AND EXISTS (SELECT 1 FROM attachments a WHERE a.storage_key = q.storage_key OR a.thumbnail_key = q.storage_key))`;
}

/**
 * In a message's deletion: deletes its attachment rows (their files are queued)
 * and returns the keys, for deleteStoredFiles once the transaction has committed.
 */
export async function deleteMessageAttachments(tx: Prisma.TransactionClient, messageId: string): Promise<string[]> {
  const deleted = await tx.$queryRaw<{ storage_key: string; thumbnail_key: string | null }[]>`
    DELETE FROM attachments WHERE message_id = ${messageId}::uuid RETURNING storage_key, thumbnail_key`;
  return deleted.flatMap((row) => (row.thumbnail_key ? [row.storage_key, row.thumbnail_key] : [row.storage_key]));
}

/** deleteStoredFiles after a commit, when it may fail without failing the caller (the sweep retries). */
export function deleteStoredFilesSoon(deps: { prisma: Db; storage: AttachmentStorage | null }, keys: readonly string[]): void {
  if (!deps.storage || keys.length === 0) return;
  deleteStoredFiles({ prisma: deps.prisma, storage: deps.storage }, keys).catch((error: unknown) =>
    logger.warn({ err: error, keys: keys.length }, "deleting stored files failed; the sweep will retry"),
  );
}
