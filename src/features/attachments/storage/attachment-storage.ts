import type { Readable } from "node:stream";

// Where attachment bytes live: one interface, a local-disk and an S3
// implementation. Keys are ours (never a user's file name): `<conversation>/<attachment>`
// and `<conversation>/<attachment>.thumb`.

export interface StoredObject {
  body: Readable;
  /** Bytes in the object. */
  size: number;
}

export interface AttachmentStorage {
  /** What the logs and the health report call it ("local", "s3"). */
  readonly kind: string;
  /**
   * Stores `body` under `key`, all or nothing: if the stream fails (the upload was
   * cancelled, a limit was crossed) or the write does, nothing is left under the
   * key and the promise rejects with the stream's error.
   */
  put(key: string, body: Readable, options: { contentType: string }): Promise<void>;
  /** The object, or null if there is none. */
  get(key: string): Promise<StoredObject | null>;
  /** Deletes the objects; a key with nothing under it is not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Closes what it holds open (the S3 client's connections), at shutdown. */
  destroy?(): void;
}
