import { fileTypeFromBuffer } from "file-type";

// A file's type from its bytes, never from its name or the browser's claim: a
// `.png` that is really HTML is HTML. file-type knows binary formats by their
// magic numbers; what it does not know is told apart here as text (and markup
// is called markup, so "text/plain" allowed does not let HTML in) or as
// unrecognized binary.

/** How much of the start of a file decides its type (file-type reads at most this; zip-based formats need more than 4 KiB). */
export const SNIFF_BYTES = 64 * 1024;

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Text subtypes that only the extension tells apart from plain text (harmless: still text). */
const TEXT_BY_EXTENSION: Record<string, string> = {
  csv: "text/csv",
  md: "text/markdown",
  markdown: "text/markdown",
  tsv: "text/tab-separated-values",
};

function decodedText(head: Uint8Array, complete: boolean): string | null {
  if (head.includes(0)) return null;
  // The head may end inside a multi-byte character: try without up to three of its last bytes.
  for (let cut = 0; cut <= (complete ? 0 : 3); cut += 1) {
    try {
      return decoder.decode(head.subarray(0, head.length - cut));
    } catch {
      // next cut
    }
  }
  return null;
}

const HTML_START = /^(<!doctype\s+html|<html|<head|<body|<script|<iframe|<meta|<style|<title|<a\s|<div|<img|<svg|<!--)/i;

function markupType(text: string): string | null {
  const start = text.replace(/^\uFEFF/, "").trimStart().slice(0, 1024);
  if (/^<\?xml/i.test(start)) return /<svg[\s>]/i.test(text) ? "image/svg+xml" : "application/xml";
  if (/^<svg[\s>]/i.test(start)) return "image/svg+xml";
  if (HTML_START.test(start)) return "text/html";
  return null;
}

/**
 * The MIME type of a file whose first bytes are `head` (`complete`: the whole file).
 * `fileName` only refines text ("text/csv" for a .csv that is text).
 */
export async function sniffContentType(head: Uint8Array, complete: boolean, fileName: string): Promise<string> {
  const detected = await fileTypeFromBuffer(head).catch(() => undefined);
  // file-type calls any XML XML; an SVG inside it is told apart below.
  if (detected && !detected.mime.endsWith("/xml")) return detected.mime;
  if (head.length === 0) return "application/octet-stream";
  const text = decodedText(head, complete);
  if (text === null) return "application/octet-stream";
  const markup = markupType(text);
  if (markup) return markup;
  const extension = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? "";
  return TEXT_BY_EXTENSION[extension] ?? "text/plain";
}

/** A file name fit to keep and show: no path, no control or bidi-override characters, at most `max` characters with its extension kept. */
export function cleanFileName(raw: string, max: number): string {
  const base = raw.split(/[\\/]/).pop() ?? "";
  const cleaned = base
    .normalize("NFC")
    // Control characters, and the direction marks and overrides that make "gnp.exe" read as "exe.png".
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^\.+/, "");
  const name = cleaned === "" ? "file" : cleaned;
  if (name.length <= max) return name;
  const extension = /\.[A-Za-z0-9]{1,10}$/.exec(name)?.[0] ?? "";
  // By code points, so an emoji is never cut in half.
  return `${Array.from(name).slice(0, max - extension.length - 1).join("")}…${extension}`;
}
