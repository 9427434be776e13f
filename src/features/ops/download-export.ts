import { useCallback, useRef, useState } from "react";
import { toast } from "sonner";

// Downloads from GET /api/export (your own data, or an admin's ?userId=) through
// fetch rather than a plain <a download> link: a refusal (429 past the limit, 403,
// 401 once signed out) is shown as the server's message in a toast instead of
// being saved as a file holding the JSON error. On success the body becomes a
// Blob saved under the name the server gives (Content-Disposition). The browser
// holds the whole file while it is saved (Chromium keeps large blobs on disk).

/** Your own export. */
export const OWN_EXPORT_URL = "/api/export";

/** An admin's export of one person. */
export function userExportUrl(userId: string): string {
  return `${OWN_EXPORT_URL}?userId=${encodeURIComponent(userId)}`;
}

/** Used if the answer names no file (the server always does). */
const FALLBACK_FILE_NAME = "chatline-export.json";

/**
 * How long the object URL outlives the click: the browser reads the blob as it
 * starts saving it, and some do so only after the click has returned (FileSaver.js
 * waits 40 s as well).
 */
const REVOKE_AFTER_MS = 40_000;

/** The file name of a `Content-Disposition` header (`filename*=` first, then `filename=`), without any path; null if none. */
export function fileNameFromDisposition(header: string | null): string | null {
  if (!header) return null;
  let name: string | undefined;
  const extended = /filename\*\s*=\s*[^']*'[^']*'([^;]+)/i.exec(header);
  if (extended) {
    try {
      name = decodeURIComponent(extended[1]!.trim());
    } catch {
      name = undefined;
    }
  }
  if (!name) {
    const plain = /filename\s*=\s*(?:"((?:\\.|[^"\\])*)"|([^;]+))/i.exec(header);
    name = plain?.[1]?.replace(/\\(.)/g, "$1") ?? plain?.[2]?.trim();
  }
  const base = name?.split(/[\\/]/).pop()?.trim();
  return base ? base : null;
}

/** What to tell the person about a refused download: the server's `error`, or the status if it sent none. */
async function refusalMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: unknown };
    if (typeof body.error === "string" && body.error.length > 0) return body.error;
  } catch {
    // Not JSON (a proxy's error page): the status is all there is.
  }
  return `The download failed (HTTP ${response.status}). Try again later.`;
}

function saveBlob(blob: Blob, fileName: string) {
  const href = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = href;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(href), REVOKE_AFTER_MS);
}

/**
 * Fetches `url` (an export) and saves the answer as a file named by its
 * Content-Disposition. A refusal or a failure shows a toast with the reason.
 * Resolves to whether the file was handed to the browser.
 */
export async function downloadExport(url: string): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  } catch {
    toast.error("The download failed: the server could not be reached. Try again.");
    return false;
  }
  if (!response.ok) {
    toast.error(await refusalMessage(response));
    return false;
  }
  let blob: Blob;
  try {
    blob = await response.blob();
  } catch {
    // The server cuts a download it cannot finish (or a client that stalled) rather than end it early.
    toast.error("The download was interrupted before the file was complete. Try again.");
    return false;
  }
  saveBlob(blob, fileNameFromDisposition(response.headers.get("content-disposition")) ?? FALLBACK_FILE_NAME);
  return true;
}

/**
 * One export download at a time from a component: `start(url)` runs
 * `downloadExport` (a call while one is under way does nothing and resolves to
 * false); `pending` is the URL under way, for a busy state, or null.
 */
export function useExportDownload(): { pending: string | null; start: (url: string) => Promise<boolean> } {
  const [pending, setPending] = useState<string | null>(null);
  const running = useRef(false);
  const start = useCallback(async (url: string) => {
    if (running.current) return false;
    running.current = true;
    setPending(url);
    try {
      return await downloadExport(url);
    } finally {
      running.current = false;
      setPending(null);
    }
  }, []);
  return { pending, start };
}
