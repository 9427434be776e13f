import { isInlineImage, type Attachment } from "./contracts";

// How files are named and described to people: the type label on a file card, the
// kind that picks its icon, the name of a pasted screenshot.

export type FileKind = "image" | "video" | "audio" | "pdf" | "archive" | "spreadsheet" | "presentation" | "document" | "code" | "text" | "other";

const LABELS: Record<string, { label: string; kind: FileKind }> = {
  "application/pdf": { label: "PDF", kind: "pdf" },
  "application/zip": { label: "ZIP archive", kind: "archive" },
  "application/x-zip-compressed": { label: "ZIP archive", kind: "archive" },
  "application/gzip": { label: "GZIP archive", kind: "archive" },
  "application/x-tar": { label: "TAR archive", kind: "archive" },
  "application/x-7z-compressed": { label: "7z archive", kind: "archive" },
  "application/vnd.rar": { label: "RAR archive", kind: "archive" },
  "application/msword": { label: "Word document", kind: "document" },
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": { label: "Word document", kind: "document" },
  "application/vnd.oasis.opendocument.text": { label: "OpenDocument text", kind: "document" },
  "application/rtf": { label: "Rich text", kind: "document" },
  "application/vnd.ms-excel": { label: "Excel spreadsheet", kind: "spreadsheet" },
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { label: "Excel spreadsheet", kind: "spreadsheet" },
  "application/vnd.oasis.opendocument.spreadsheet": { label: "OpenDocument spreadsheet", kind: "spreadsheet" },
  "text/csv": { label: "CSV", kind: "spreadsheet" },
  "application/vnd.ms-powerpoint": { label: "PowerPoint", kind: "presentation" },
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": { label: "PowerPoint", kind: "presentation" },
  "application/vnd.oasis.opendocument.presentation": { label: "OpenDocument presentation", kind: "presentation" },
  "application/json": { label: "JSON", kind: "code" },
  "application/xml": { label: "XML", kind: "code" },
  "text/html": { label: "HTML", kind: "code" },
  "text/markdown": { label: "Markdown", kind: "text" },
  "text/plain": { label: "Text", kind: "text" },
  "image/svg+xml": { label: "SVG image", kind: "image" },
};

const FAMILIES: Record<string, { label: string; kind: FileKind }> = {
  image: { label: "Image", kind: "image" },
  video: { label: "Video", kind: "video" },
  audio: { label: "Audio", kind: "audio" },
  text: { label: "Text", kind: "text" },
};

function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : "";
}

/**
 * "PDF", "Word document", "PNG image", or the extension ("DWG") when the type says
 * little, or "File".
 */
export function describeFileType(name: string, contentType: string): { label: string; kind: FileKind } {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  const known = LABELS[type];
  if (known) return known;
  const [family = "", subtype = ""] = type.split("/");
  const extension = extensionOf(name);
  if (family === "image" && subtype) {
    const format = subtype === "jpeg" ? "JPEG" : subtype.replace(/^x-/, "").split("+")[0]!.toUpperCase();
    return { label: `${format} image`, kind: "image" };
  }
  const familyMatch = FAMILIES[family];
  if (familyMatch) return extension ? { label: `${extension.toUpperCase()} ${familyMatch.label.toLowerCase()}`, kind: familyMatch.kind } : familyMatch;
  if (extension && extension.length <= 5) return { label: extension.toUpperCase(), kind: "other" };
  return { label: "File", kind: "other" };
}

/** What a screen reader hears for a message's files: "1 image", "3 files". */
export function summarizeAttachments(attachments: Pick<Attachment, "contentType">[]): string {
  if (attachments.length === 0) return "";
  const noun = attachments.every(isInlineImage) ? "image" : "file";
  return `${attachments.length} ${noun}${attachments.length === 1 ? "" : "s"}`;
}

/** Names browsers give every pasted screenshot: they tell files apart badly. */
const GENERIC_PASTE_NAME = /^(image|clipboard)(\.[a-z0-9]+)?$/i;

const EXTENSIONS: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/avif": "avif",
  "image/bmp": "bmp",
  "image/tiff": "tiff",
};

const pad = (value: number) => String(value).padStart(2, "0");

/**
 * A pasted image called "image.png" becomes "Pasted image 2026-12-06 14-05.png"
 * (local time), as Slack does; a pasted file with a real name keeps it.
 */
export function pastedFileName(name: string, type: string, at: Date): string {
  if (name && !GENERIC_PASTE_NAME.test(name)) return name;
  const extension = extensionOf(name) || EXTENSIONS[type.toLowerCase()] || "";
  const stamp = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}-${pad(at.getMinutes())}`;
  const noun = type.toLowerCase().startsWith("image/") ? "image" : "file";
  return `Pasted ${noun} ${stamp}${extension ? `.${extension}` : ""}`;
}
