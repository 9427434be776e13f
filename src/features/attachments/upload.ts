import { randomUUID } from "node:crypto";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { buffer } from "node:stream/consumers";
import type { SessionUser } from "~/features/auth/contracts";
import { requireMembership } from "~/features/conversations/membership";
import { requireMessagingEnabled } from "~/features/settings/settings.service";
import type { Db } from "~/server/db/client";
import { DomainError } from "~/server/errors";
import { logger } from "~/server/logger";
import { chargeUserCall } from "~/server/rate-limits";
import { discardUnsent, toAttachment } from "./attachments.service";
import { cleanFileName, SNIFF_BYTES, sniffContentType } from "./content-sniffing";
import { isInlineImage, MAX_FILE_NAME_LENGTH, type Attachment, type UploadErrorCode } from "./contracts";
import { ATTACHMENTS_TURNED_OFF, fileTooLargeMessage, fileTypeNotAllowedMessage, isFileTypeAllowed } from "./file-acceptance";
import type { AttachmentStorage } from "./storage/attachment-storage";
import { makeThumbnail, MAX_THUMBNAIL_INPUT_BYTES, UnreadableImage } from "./thumbnails";

// Receiving a file: checked as it streams in, stored as it streams, never held
// whole in memory. The bytes pass through an inspector that counts them against
// the settings' size limit and, once it has the first SNIFF_BYTES, decides the
// type from the content; either refusal fails the stream, the storage keeps
// nothing, and the attachment row (written first, UPLOADING) is deleted. A row
// left UPLOADING by a stopped server is swept later (attachment-sweeper.ts).

export interface UploadDeps {
  prisma: Db;
  storage: AttachmentStorage;
}

/** An upload refused for what it is (too large, the wrong type, cut off). */
export class UploadRefusal extends Error {
  constructor(
    readonly code: UploadErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "UploadRefusal";
  }
}

export interface IncomingFile {
  conversationId: string;
  /** The name the uploader gave. */
  name: string;
  /** The request's Content-Length: required, so a cut-off upload is told from a complete one. */
  contentLength: number | null;
  body: Readable;
}

/** The storage keys of an attachment: ours, never the file's name. */
export function storageKeysOf(conversationId: string, attachmentId: string) {
  return { file: `${conversationId}/${attachmentId}`, thumbnail: `${conversationId}/${attachmentId}.thumb.webp` };
}

function tooLarge(name: string, maxBytes: number): UploadRefusal {
  return new UploadRefusal("PAYLOAD_TOO_LARGE", fileTooLargeMessage(name, maxBytes));
}

/** Counts, sniffs and checks the bytes on their way to the storage. */
class UploadInspector extends Transform {
  received = 0;
  contentType: string | null = null;
  private head: Buffer[] = [];
  private headBytes = 0;

  constructor(
    private readonly file: { name: string; expectedBytes: number },
    private readonly limits: { maxBytes: number; allowedTypes: readonly string[] },
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.limits.maxBytes) return done(tooLarge(this.file.name, this.limits.maxBytes));
    if (this.received > this.file.expectedBytes) {
      return done(new UploadRefusal("BAD_REQUEST", "The upload sent more bytes than it announced."));
    }
    if (this.contentType !== null) return done(null, chunk);
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes < SNIFF_BYTES) return done();
    this.decide(false).then(
      (head) => done(null, head),
      (error: unknown) => done(error as Error),
    );
  }

  override _flush(done: TransformCallback): void {
    if (this.received < this.file.expectedBytes) {
      return done(new UploadRefusal("BAD_REQUEST", `The upload of ${this.file.name} was cut off. Try again.`));
    }
    if (this.contentType !== null) return done();
    this.decide(true).then(
      (head) => done(null, head),
      (error: unknown) => done(error as Error),
    );
  }

  /** Sniffs the type from what has arrived; refuses a type not allowed. Returns the held bytes. */
  private async decide(complete: boolean): Promise<Buffer> {
    const head = Buffer.concat(this.head);
    this.head = [];
    const type = await sniffContentType(head, complete, this.file.name);
    if (!isFileTypeAllowed(type, this.limits.allowedTypes)) {
      throw new UploadRefusal("UNSUPPORTED_MEDIA_TYPE", fileTypeNotAllowedMessage(this.file.name, type, this.limits.allowedTypes));
    }
    this.contentType = type;
    return head;
  }
}

/** Stores an uploaded file of a member of the conversation; the attachment is READY and not yet sent. */
export async function receiveUpload(deps: UploadDeps, user: SessionUser, file: IncomingFile): Promise<Attachment> {
  // From the start: a body that fails before it is read (the client went away during
  // the checks) must fail this upload, not the process.
  let bodyError: unknown;
  const noteBodyError = (error: unknown) => void (bodyError ??= error);
  file.body.on("error", noteBodyError);
  try {
    return await receive(deps, user, file, () => bodyError);
  } catch (error) {
    // Refused before or while reading: stop taking the rest.
    file.body.destroy();
    throw error;
  } finally {
    file.body.off("error", noteBodyError);
  }
}

async function receive(deps: UploadDeps, user: SessionUser, file: IncomingFile, bodyError: () => unknown): Promise<Attachment> {
  const name = cleanFileName(file.name, MAX_FILE_NAME_LENGTH);
  const limits = await requireMessagingEnabled(deps.prisma);
  if (!limits.allowFileAttachments) throw new DomainError("FORBIDDEN", ATTACHMENTS_TURNED_OFF);
  await requireMembership(deps.prisma, file.conversationId, user.id);
  if (file.contentLength === null) throw new UploadRefusal("BAD_REQUEST", "Send the file's length (Content-Length) with the upload.");
  if (file.contentLength > limits.maxFileSize) throw tooLarge(name, limits.maxFileSize);
  await chargeUserCall("upload", user.id, limits.rateLimitPerMinute);

  const id = randomUUID();
  const keys = storageKeysOf(file.conversationId, id);
  await deps.prisma.attachment.create({
    data: {
      id,
      conversationId: file.conversationId,
      uploaderId: user.id,
      status: "UPLOADING",
      fileName: name,
      contentType: "application/octet-stream",
      size: 0,
      storageKey: keys.file,
    },
  });
  try {
    const inspector = new UploadInspector(
      { name, expectedBytes: file.contentLength },
      { maxBytes: limits.maxFileSize, allowedTypes: limits.allowedFileTypes },
    );
    if (file.body.destroyed) throw bodyError() ?? new UploadRefusal("BAD_REQUEST", "The upload was cancelled.");
    file.body.once("error", (error) => inspector.destroy(error));
    await deps.storage.put(keys.file, file.body.pipe(inspector), { contentType: "application/octet-stream" });
    const contentType = inspector.contentType ?? "application/octet-stream";
    const image = isInlineImage({ contentType }) ? await thumbnailOf(deps.storage, keys, name, inspector.received) : null;
    const row = await deps.prisma.attachment.update({
      where: { id },
      data: {
        status: "READY",
        contentType,
        size: inspector.received,
        width: image?.width ?? null,
        height: image?.height ?? null,
        thumbnailKey: image ? keys.thumbnail : null,
      },
    });
    return toAttachment(row);
  } catch (error) {
    await discardUnsent(deps, { ids: [id] }, [keys.file, keys.thumbnail]).catch((cleanupError: unknown) =>
      logger.warn({ err: cleanupError, attachmentId: id }, "cleaning up a refused upload failed; the sweep will retry"),
    );
    throw error;
  }
}

/** The image's thumbnail and size; none for an image too large to decode here (it is kept as a file). */
async function thumbnailOf(storage: AttachmentStorage, keys: { file: string; thumbnail: string }, name: string, size: number) {
  if (size > MAX_THUMBNAIL_INPUT_BYTES) return null;
  let thumbnail;
  try {
    thumbnail = await makeThumbnail(async () => {
      const stored = await storage.get(keys.file);
      if (!stored) throw new Error(`The stored file ${keys.file} vanished before its thumbnail was made.`);
      return buffer(stored.body);
    });
  } catch (error) {
    if (error instanceof UnreadableImage) throw new UploadRefusal("UNSUPPORTED_MEDIA_TYPE", `${name} could not be read as an image.`);
    throw error;
  }
  if (!thumbnail) return null;
  await storage.put(keys.thumbnail, Readable.from([thumbnail.webp]), { contentType: "image/webp" });
  return thumbnail;
}
