import path from "node:path";
import type { AttachmentStorage } from "./storage/attachment-storage";
import { LocalAttachmentStorage } from "./storage/local-storage";

// The process's attachment storage. server.ts configures it at start; the Next.js
// route handlers (a separate module graph in the same process) read it from
// globalThis, as they read the database.

export interface AttachmentRuntime {
  storage: AttachmentStorage;
  /** Origins a page may upload from (APP_URL, loopback names, ALLOWED_ORIGINS). */
  allowedOrigins: readonly string[];
}

const globalForAttachments = globalThis as unknown as { __chatlineAttachments?: AttachmentRuntime };

export function configureAttachments(runtime: AttachmentRuntime | undefined): void {
  globalForAttachments.__chatlineAttachments = runtime;
}

/** The configured runtime, or null (a process that serves no attachments, such as a script). */
export function attachmentRuntime(): AttachmentRuntime | null {
  return globalForAttachments.__chatlineAttachments ?? null;
}

export interface AttachmentStorageEnv {
  DATA_DIR: string;
  UPLOADS_DIR?: string;
  S3_BUCKET?: string;
  S3_REGION?: string;
  S3_ENDPOINT?: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  S3_FORCE_PATH_STYLE?: boolean;
  S3_PREFIX?: string;
}

/**
 * An S3-compatible bucket when S3_BUCKET is set, else the local disk (UPLOADS_DIR,
 * or DATA_DIR/uploads). The AWS SDK is loaded only when a bucket is configured.
 */
export async function createAttachmentStorage(env: AttachmentStorageEnv): Promise<AttachmentStorage> {
  if (env.S3_BUCKET) {
    const { S3AttachmentStorage } = await import("./storage/s3-storage");
    return new S3AttachmentStorage({
      bucket: env.S3_BUCKET,
      region: env.S3_REGION ?? "us-east-1",
      endpoint: env.S3_ENDPOINT,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      prefix: env.S3_PREFIX,
    });
  }
  return new LocalAttachmentStorage(path.resolve(env.UPLOADS_DIR ?? path.join(env.DATA_DIR, "uploads")));
}
