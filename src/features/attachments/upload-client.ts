import { ATTACHMENTS_PATH, uploadErrorSchema, uploadResultSchema, type Attachment, type UploadErrorCode } from "./contracts";

// The browser's side of an upload: the file's bytes as the body of one POST, sent
// with XMLHttpRequest because fetch cannot report upload progress. The answer is
// the attachment's descriptor, or a refusal worded for the person.

export const UPLOAD_FAILED = "Upload failed";

/** Why an upload did not give an attachment. NETWORK: offline, or the server failed (5xx); ABORTED: cancelled. */
export class UploadError extends Error {
  constructor(
    message: string,
    readonly code: UploadErrorCode | "NETWORK" | "ABORTED",
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "UploadError";
  }

  /** Whether trying the same file again may work (the server's refusals of the file itself will not change). */
  get retryable(): boolean {
    return this.code === "NETWORK" || this.code === "TOO_MANY_REQUESTS" || this.code === "UNAUTHORIZED";
  }
}

/** Retry-After is seconds or an HTTP date. */
function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The error for an answer other than 201: the server's sentence when it gave one. */
export function uploadFailure(status: number, body: string, retryAfter: string | null, name: string): UploadError {
  const retryAfterMs = parseRetryAfter(retryAfter);
  if (status >= 400 && status < 500) {
    let parsed: ReturnType<typeof uploadErrorSchema.safeParse> | undefined;
    try {
      parsed = uploadErrorSchema.safeParse(JSON.parse(body));
    } catch {
      parsed = undefined;
    }
    if (parsed?.success) return new UploadError(parsed.data.error.message, parsed.data.error.code, retryAfterMs);
    // A proxy in front of the app may refuse with a page of its own.
    if (status === 413) return new UploadError(`${name} is too large to upload.`, "PAYLOAD_TOO_LARGE");
    if (status === 429) return new UploadError("Too many uploads at once. Try again in a moment.", "TOO_MANY_REQUESTS", retryAfterMs);
    if (status === 401) return new UploadError("Your session has ended. Sign in again, then retry.", "UNAUTHORIZED");
    if (status === 403) return new UploadError("You can't send files in this conversation.", "FORBIDDEN");
  }
  return new UploadError(UPLOAD_FAILED, "NETWORK");
}

export interface UploadRequest {
  conversationId: string;
  file: Blob;
  /** The name it is sent under (a pasted screenshot's is made up). */
  name: string;
  /** 0 to 1, as the bytes go out. */
  onProgress?(fraction: number): void;
}

export interface UploadTask {
  promise: Promise<Attachment>;
  abort(): void;
}

export function uploadUrl(conversationId: string, name: string): string {
  return `${ATTACHMENTS_PATH}?conversationId=${encodeURIComponent(conversationId)}&name=${encodeURIComponent(name)}`;
}

export function uploadAttachment({ conversationId, file, name, onProgress }: UploadRequest): UploadTask {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<Attachment>((resolve, reject) => {
    xhr.open("POST", uploadUrl(conversationId, name));
    // Only a hint: the server sniffs the content.
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress?.(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status === 200 || xhr.status === 201) {
        try {
          const parsed = uploadResultSchema.safeParse(JSON.parse(xhr.responseText));
          if (parsed.success) return resolve(parsed.data.attachment);
        } catch {
          // Not JSON: an unexpected answer, treated as a failure worth retrying.
        }
        return reject(new UploadError(UPLOAD_FAILED, "NETWORK"));
      }
      reject(uploadFailure(xhr.status, xhr.responseText, xhr.getResponseHeader("Retry-After"), name));
    };
    xhr.onerror = () => reject(new UploadError(UPLOAD_FAILED, "NETWORK"));
    xhr.ontimeout = () => reject(new UploadError(UPLOAD_FAILED, "NETWORK"));
    xhr.onabort = () => reject(new UploadError("Upload cancelled", "ABORTED"));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

/** Takes back an uploaded file that will not be sent. Best effort: the server sweeps unsent files anyway. */
export function deleteAttachment(id: string): void {
  void fetch(`${ATTACHMENTS_PATH}/${encodeURIComponent(id)}`, { method: "DELETE", keepalive: true }).catch(() => undefined);
}
