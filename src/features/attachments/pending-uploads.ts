import { INLINE_IMAGE_TYPES, MAX_ATTACHMENTS_PER_MESSAGE, type Attachment } from "./contracts";
import { UPLOAD_FAILED, UploadError, type UploadRequest, type UploadTask } from "./upload-client";

// The files in one conversation's composer. Each starts uploading as it is added;
// a send waits for the uploads still going, then goes out by itself with the text
// it was given. The store lives outside the composer (one per conversation, like the
// outbox), so uploads and a waiting send carry on while the person looks elsewhere.

export type PendingUploadState = "uploading" | "done" | "failed";

export interface PendingUpload {
  localId: string;
  file: Blob;
  name: string;
  size: number;
  /** The declared type (the server sniffs the real one). */
  type: string;
  /** A local preview of an image (an object URL), revoked when the file leaves the composer. */
  previewUrl?: string;
  /** 0 to 1. */
  progress: number;
  state: PendingUploadState;
  attachment?: Attachment;
  error?: string;
  /** A failed upload that may work if tried again (offline, rate limited), rather than a refusal of the file. */
  retryable?: boolean;
}

export interface PendingUploadsSnapshot {
  uploads: PendingUpload[];
  /** Send was pressed while files were uploading: this text goes out with them when they are done. */
  waiting: { content: string } | null;
  /** How many messages went out from here: a composer clears itself when it moves. */
  sent: number;
}

/** What became of a send: out, waiting for uploads, held back by a failed upload, or nothing to send. */
export type SendOutcome = "sent" | "waiting" | "blocked" | "empty";

export interface PendingUploadsOptions {
  conversationId: string;
  upload(request: UploadRequest): UploadTask;
  /** An uploaded file taken out before it was sent (best effort). */
  discard(attachment: Attachment): void;
  /** The message is ready: its text and its files, in the order they were added. */
  send(content: string, attachments: Attachment[]): void;
  /** A send that was waiting stopped because an upload failed. */
  onWaitStopped?(reason: string): void;
  createPreview?(file: Blob): string | undefined;
  revokePreview?(url: string): void;
  newId?(): string;
  max?: number;
}

export class PendingUploads {
  private snapshot: PendingUploadsSnapshot = { uploads: [], waiting: null, sent: 0 };
  private tasks = new Map<string, UploadTask>();
  private listeners = new Set<() => void>();
  private nextId = 0;

  constructor(private readonly options: PendingUploadsOptions) {}

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  getSnapshot = () => this.snapshot;

  /** Adds files and starts their uploads; those over the per-message limit are refused. */
  add(files: { file: Blob; name: string }[]): { added: number; refused: number } {
    const room = Math.max(0, (this.options.max ?? MAX_ATTACHMENTS_PER_MESSAGE) - this.snapshot.uploads.length);
    const accepted = files.slice(0, room).map(({ file, name }): PendingUpload => {
      const previewUrl = INLINE_IMAGE_TYPES.has(file.type) ? this.options.createPreview?.(file) : undefined;
      return {
        localId: this.options.newId?.() ?? `upload-${++this.nextId}`,
        file,
        name,
        size: file.size,
        type: file.type,
        ...(previewUrl ? { previewUrl } : {}),
        progress: 0,
        state: "uploading",
      };
    });
    if (accepted.length > 0) {
      this.set({ uploads: [...this.snapshot.uploads, ...accepted] });
      for (const upload of accepted) this.start(upload);
    }
    return { added: accepted.length, refused: files.length - accepted.length };
  }

  /** Cancels an upload in progress, or takes out a file that is done or failed. */
  remove(localId: string) {
    const upload = this.find(localId);
    if (!upload) return;
    const task = this.tasks.get(localId);
    this.tasks.delete(localId);
    task?.abort();
    if (upload.attachment) this.options.discard(upload.attachment);
    if (upload.previewUrl) this.options.revokePreview?.(upload.previewUrl);
    this.set({ uploads: this.snapshot.uploads.filter((item) => item.localId !== localId) });
    this.settle();
  }

  retry(localId: string) {
    const upload = this.find(localId);
    if (upload?.state !== "failed") return;
    this.patch(localId, { state: "uploading", progress: 0, error: undefined, retryable: undefined });
    this.start(upload);
  }

  /**
   * Sends `content` with the files: now if they are all uploaded, or once they are.
   * A failed upload holds the message back until it is retried or removed.
   */
  requestSend(content: string): SendOutcome {
    const { uploads } = this.snapshot;
    if (uploads.some((upload) => upload.state === "failed")) return "blocked";
    if (content === "" && uploads.length === 0) return "empty";
    if (uploads.some((upload) => upload.state === "uploading")) {
      this.set({ waiting: { content } });
      return "waiting";
    }
    this.complete(content);
    return "sent";
  }

  cancelWait() {
    if (this.snapshot.waiting) this.set({ waiting: null });
  }

  private start(upload: PendingUpload) {
    const task = this.options.upload({
      conversationId: this.options.conversationId,
      file: upload.file,
      name: upload.name,
      onProgress: (progress) => {
        if (this.tasks.get(upload.localId) === task) this.patch(upload.localId, { progress });
      },
    });
    this.tasks.set(upload.localId, task);
    task.promise.then(
      (attachment) => {
        if (this.tasks.get(upload.localId) !== task) return;
        this.tasks.delete(upload.localId);
        this.patch(upload.localId, { state: "done", progress: 1, attachment });
        this.settle();
      },
      (error: unknown) => {
        if (this.tasks.get(upload.localId) !== task) return;
        this.tasks.delete(upload.localId);
        const known = error instanceof UploadError ? error : undefined;
        this.patch(upload.localId, { state: "failed", error: known?.message ?? UPLOAD_FAILED, retryable: known?.retryable ?? true });
        this.settle();
      },
    );
  }

  /** After an upload ends or a file is taken out: a waiting send goes out, or stops. */
  private settle() {
    const { uploads, waiting } = this.snapshot;
    if (!waiting) return;
    const failed = uploads.find((upload) => upload.state === "failed");
    if (failed) {
      this.set({ waiting: null });
      this.options.onWaitStopped?.(`${failed.name}: ${failed.error ?? UPLOAD_FAILED}`);
      return;
    }
    if (uploads.some((upload) => upload.state === "uploading")) return;
    if (uploads.length === 0 && waiting.content === "") return this.set({ waiting: null });
    this.complete(waiting.content);
  }

  private complete(content: string) {
    const { uploads, sent } = this.snapshot;
    const attachments = uploads.flatMap((upload) => (upload.attachment ? [upload.attachment] : []));
    for (const upload of uploads) if (upload.previewUrl) this.options.revokePreview?.(upload.previewUrl);
    this.set({ uploads: [], waiting: null, sent: sent + 1 });
    this.options.send(content, attachments);
  }

  private find(localId: string) {
    return this.snapshot.uploads.find((upload) => upload.localId === localId);
  }

  private patch(localId: string, patch: Partial<PendingUpload>) {
    this.set({ uploads: this.snapshot.uploads.map((upload) => (upload.localId === localId ? { ...upload, ...patch } : upload)) });
  }

  private set(change: Partial<PendingUploadsSnapshot>) {
    this.snapshot = { ...this.snapshot, ...change };
    for (const listener of this.listeners) listener();
  }
}
