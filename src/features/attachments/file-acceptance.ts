import type { PublicMessagingSettings } from "~/features/settings/contracts";
import { formatFileSize } from "./contracts";

// Whether a file may be attached, checked in the browser before it is uploaded so
// that a person hears "too large" at once rather than after sending it. The upload
// route is the authority (it sniffs the content): these functions only refuse what
// it would refuse too, and word it the same way, so the route can use them as well.

export type AttachmentSettings = Pick<PublicMessagingSettings, "allowFileAttachments" | "maxFileSize" | "allowedFileTypes">;

export const ATTACHMENTS_TURNED_OFF = "File attachments are turned off by an administrator.";

/** "5 MB" rather than "5.0 MB": a limit as an admin thinks of it. */
export function formatSizeLimit(bytes: number): string {
  return formatFileSize(bytes).replace(/\.0 /, " ");
}

export function fileTooLargeMessage(name: string, maxFileSize: number): string {
  return `${name} is larger than the ${formatSizeLimit(maxFileSize)} limit.`;
}

export function fileTypeNotAllowedMessage(name: string, type: string, allowedFileTypes: readonly string[]): string {
  return `${name} is a file of type ${type}, which is not allowed here. Allowed: ${allowedFileTypes.join(", ")}.`;
}

/** "image/png; charset=x" → "image/png". */
function essence(contentType: string): string {
  return contentType.split(";")[0]!.trim().toLowerCase();
}

/** Whether a MIME type is in the allowed list, which holds types ("application/pdf") and families ("image/*"). */
export function isFileTypeAllowed(contentType: string, allowedFileTypes: readonly string[]): boolean {
  const type = essence(contentType);
  return allowedFileTypes.some((allowed) => {
    const entry = allowed.trim().toLowerCase();
    return entry.endsWith("/*") ? type.startsWith(entry.slice(0, -1)) : type === entry;
  });
}

/** Types that say nothing about the content: the server's sniffing decides. */
const UNKNOWN_TYPES = new Set(["", "application/octet-stream"]);

/**
 * Other names browsers (Windows ones mostly) give types the server sniffs under the
 * standard name: refusing them here would refuse what the server accepts.
 */
const TYPE_ALIASES: Record<string, string> = {
  "application/x-zip-compressed": "application/zip",
  "application/x-pdf": "application/pdf",
  "image/jpg": "image/jpeg",
  "image/pjpeg": "image/jpeg",
  "image/x-png": "image/png",
  "audio/mp3": "audio/mpeg",
  "audio/x-wav": "audio/wav",
  "application/x-gzip": "application/gzip",
};

/** Windows declares a .csv as Excel's when Excel is installed: such a guess is left to the server. */
const GUESSED_BY_EXTENSION = new Set(["application/vnd.ms-excel"]);

export type FileVerdict = { ok: true } | { ok: false; reason: string };

/**
 * A file's declared size and type against the settings. A file whose browser does
 * not know its type goes to the server, which looks at the bytes.
 */
export function checkFile(file: { name: string; size: number; type: string }, settings: AttachmentSettings): FileVerdict {
  if (!settings.allowFileAttachments) return { ok: false, reason: ATTACHMENTS_TURNED_OFF };
  if (file.size > settings.maxFileSize) return { ok: false, reason: fileTooLargeMessage(file.name, settings.maxFileSize) };
  const declared = essence(file.type);
  const type = TYPE_ALIASES[declared] ?? declared;
  if (!UNKNOWN_TYPES.has(type) && !GUESSED_BY_EXTENSION.has(type) && !isFileTypeAllowed(type, settings.allowedFileTypes)) {
    return { ok: false, reason: fileTypeNotAllowedMessage(file.name, type, settings.allowedFileTypes) };
  }
  return { ok: true };
}

/** The file picker's `accept`: the allowed types, which browsers understand as they are. */
export function acceptAttribute(allowedFileTypes: readonly string[]): string {
  return allowedFileTypes.join(",");
}
