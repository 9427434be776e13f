import { z } from "zod";

// Attachments as clients see them, shared by the upload route, the send
// procedure and the UI. A file is uploaded first (POST ATTACHMENTS_PATH, the raw
// bytes as the body), then sent by a message that names its id; the message
// carries the descriptors in `metadata.attachments`.

/** Where files are uploaded (POST) and served from (GET `${ATTACHMENTS_PATH}/<id>`, `/<id>/thumbnail`). */
export const ATTACHMENTS_PATH = "/api/attachments";

/** Files one message may carry (Slack's limit, too). */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

/** Longest file name kept (characters); longer ones keep their extension. */
export const MAX_FILE_NAME_LENGTH = 200;

/** The query of an upload: where it goes and the file's name (the body is the file itself). */
export const uploadQuerySchema = z.object({
  conversationId: z.uuid({ error: "Say which conversation the file is for." }),
  name: z
    .string({ error: "Give the file's name." })
    .min(1, "Give the file's name.")
    .max(1024, "That file name is too long."),
});
export type UploadQuery = z.infer<typeof uploadQuerySchema>;

export const attachmentSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  /** Sniffed from the file's content on upload. */
  contentType: z.string(),
  size: z.number().int().nonnegative(),
  /** Images only: their pixel size, and whether a thumbnail was made. */
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
  hasThumbnail: z.boolean(),
});
export type Attachment = z.infer<typeof attachmentSchema>;

/** The answer to an upload. */
export const uploadResultSchema = z.object({ attachment: attachmentSchema });

export const UPLOAD_ERROR_CODES = [
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "TOO_MANY_REQUESTS",
] as const;
export type UploadErrorCode = (typeof UPLOAD_ERROR_CODES)[number];

/** A refused upload or download: a code a client can branch on and a sentence a person can read. */
export const uploadErrorSchema = z.object({
  error: z.object({ code: z.enum(UPLOAD_ERROR_CODES), message: z.string() }),
});

export const attachmentIdsSchema = z
  .array(z.uuid(), { error: "Give the attachments as a list of ids." })
  .max(MAX_ATTACHMENTS_PER_MESSAGE, `A message carries at most ${MAX_ATTACHMENTS_PER_MESSAGE} files.`)
  .refine((ids) => new Set(ids.map((id) => id.toLowerCase())).size === ids.length, "Attach each file once.");

const messageAttachmentsSchema = z.object({ attachments: z.array(attachmentSchema) });

/** The files a message carries (none for a deleted or system message, or one without files). */
export function attachmentsOf(message: { metadata: Record<string, unknown> | null }): Attachment[] {
  const parsed = messageAttachmentsSchema.safeParse(message.metadata);
  return parsed.success ? parsed.data.attachments : [];
}

export function attachmentUrl(id: string, variant: "file" | "thumbnail" | "inline" = "file"): string {
  if (variant === "thumbnail") return `${ATTACHMENTS_PATH}/${id}/thumbnail`;
  return variant === "inline" ? `${ATTACHMENTS_PATH}/${id}?inline=1` : `${ATTACHMENTS_PATH}/${id}`;
}

/** Images the browser shows inline (raster only: an SVG can carry script). */
export const INLINE_IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"]);

export function isInlineImage(attachment: Pick<Attachment, "contentType">): boolean {
  return INLINE_IMAGE_TYPES.has(attachment.contentType);
}

/** "1.4 MB": sizes as people read them. */
export function formatFileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** What a preview says of a message: its text, or its files when it has no text. */
export function textOrFilesSummary(content: string, attachments: readonly Pick<Attachment, "name">[]): string {
  if (content.trim() !== "" || attachments.length === 0) return content;
  return attachments.length === 1 ? `📎 ${attachments[0]!.name}` : `📎 ${attachments.length} files`;
}
