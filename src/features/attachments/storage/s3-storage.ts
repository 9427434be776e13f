import { createHash } from "node:crypto";
import { finished, PassThrough, Readable } from "node:stream";
import { DeleteObjectsCommand, GetObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { logger } from "~/server/logger";
import type { AttachmentStorage, StoredObject } from "./attachment-storage";
import { checkStorageKey } from "./local-storage";

// Objects in an S3-compatible bucket (AWS, MinIO, R2, Ceph...). Uploads stream
// through lib-storage's multipart Upload, so memory per upload stays at about
// (QUEUE_SIZE + 1) parts whatever the file size, and an object only appears
// under its key once the whole body has arrived.

export interface S3AttachmentStorageOptions {
  bucket: string;
  region: string;
  /** For servers other than AWS, e.g. http://minio:9000. */
  endpoint?: string;
  /** Without both keys the SDK's default chain is used (environment, instance role...). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** bucket-in-path URLs, which most self-hosted servers need. */
  forcePathStyle?: boolean;
  /** A folder for all our objects, e.g. "chatline/" when the bucket is shared. */
  prefix?: string;
}

/** S3's minimum part size; bigger parts only cost memory. */
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;

export class S3AttachmentStorage implements AttachmentStorage {
  readonly kind = "s3";
  private readonly bucket: string;
  private readonly prefix: string;
  private s3: S3Client | undefined;

  constructor(private readonly options: S3AttachmentStorageOptions) {
    if (!options.bucket) throw new Error("S3 storage needs a bucket");
    if (!options.accessKeyId !== !options.secretAccessKey) {
      throw new Error("S3 storage needs both an access key id and a secret access key, or neither");
    }
    this.bucket = options.bucket;
    // "chatline", "/chatline/" and "chatline/" all mean the folder chatline/.
    const folder = (options.prefix ?? "").replace(/^\/+|\/+$/g, "");
    this.prefix = folder ? `${folder}/` : "";
  }

  /** The SDK client, made on first use: a process that never touches attachments opens nothing. */
  get client(): S3Client {
    if (!this.s3) {
      const { region, endpoint, accessKeyId, secretAccessKey, forcePathStyle } = this.options;
      const client = new S3Client({
        region,
        endpoint,
        forcePathStyle,
        credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
        // Since 2025 the SDK adds CRC32 checksums to every upload and asks for them on
        // every download, which several S3-compatible servers reject or get wrong.
        // Parts go up as buffers, so SigV4 already signs their SHA-256 and the server
        // checks it; downloads are covered by TLS.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      });
      // DeleteObjects is the one call where a checksum is required, and the SDK now
      // sends CRC32 instead of Content-MD5; servers that predate that refuse it
      // ("Missing required header: Content-MD5"). Content-MD5 is what every server,
      // AWS included, accepts. Runs after the SDK's own checksum step (build, normal).
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const request = args.request as { headers?: Record<string, string>; body?: unknown };
          if (context.commandName === "DeleteObjectsCommand" && request.headers && request.body !== undefined) {
            const body = request.body;
            if (typeof body === "string" || body instanceof Uint8Array) {
              for (const name of Object.keys(request.headers)) {
                const lower = name.toLowerCase();
                if (lower.startsWith("x-amz-checksum-") || lower === "x-amz-sdk-checksum-algorithm") delete request.headers[name];
              }
              request.headers["content-md5"] = createHash("md5").update(body).digest("base64");
            }
          }
          return next(args);
        },
        { step: "build", priority: "low", name: "chatlineDeleteObjectsContentMd5" },
      );
      this.s3 = client;
    }
    return this.s3;
  }

  private objectKey(key: string): string {
    return this.prefix + checkStorageKey(key);
  }

  async put(key: string, body: Readable, options: { contentType: string }): Promise<void> {
    const Key = this.objectKey(key);
    // lib-storage reads a pass-through, not the body itself: when S3 fails it stops
    // reading and destroys what it reads with an AbortError of its own, which must
    // not pass for the body failing. And when the body does fail, lib-storage rejects
    // with the AbortMultipartUpload error if that fails too; the caller wants the body's.
    const source = new PassThrough();
    let bodyError: unknown;
    const stopWatching = finished(body, (error) => {
      if (!error) return;
      bodyError ??= error;
      source.destroy(error);
    });
    body.pipe(source);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: source, ContentType: options.contentType },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      // Aborting drops the parts sent so far; CompleteMultipartUpload is never sent,
      // so nothing ever appears under the key.
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      const streamError = bodyError ?? body.errored ?? undefined;
      // An S3 failure leaves the rest of the body unread: release its source.
      body.destroy();
      if (streamError === undefined) throw error;
      if (error !== streamError) {
        // The parts then stay (and cost storage) until the bucket's lifecycle rule
        // for incomplete multipart uploads clears them.
        logger.warn({ err: error, key: Key }, "s3 upload failed and its multipart upload may not have been aborted");
      }
      throw streamError;
    } finally {
      stopWatching();
      source.destroy();
    }
  }

  async get(key: string): Promise<StoredObject | null> {
    const Key = this.objectKey(key);
    let output;
    try {
      output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw error;
    }
    const body = output.Body;
    if (!(body instanceof Readable)) throw new Error("S3 returned a body that is not a Node stream");
    if (output.ContentLength === undefined) {
      // Release the connection rather than guess: the size becomes a Content-Length.
      body.destroy();
      throw new Error(`S3 returned no Content-Length for ${Key}`);
    }
    return { body, size: output.ContentLength };
  }

  async delete(keys: readonly string[]): Promise<void> {
    const objectKeys = [...new Set(keys.map((key) => this.objectKey(key)))];
    for (let start = 0; start < objectKeys.length; start += DELETE_BATCH) {
      const batch = objectKeys.slice(start, start + DELETE_BATCH);
      // S3 reports a key with nothing under it as deleted; Quiet leaves only failures in the answer.
      const output = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      const errors = output.Errors ?? [];
      if (errors.length > 0) {
        const first = errors[0]!;
        throw new Error(`S3 could not delete ${errors.length} of ${batch.length} objects; ${first.Key}: ${first.Code} ${first.Message ?? ""}`.trim());
      }
    }
  }

  /** Closes the client's pooled connections (shutdown, tests). */
  destroy(): void {
    this.s3?.destroy();
    this.s3 = undefined;
  }
}

function isMissingObject(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  if (error.name === "NoSuchKey") return true;
  // Some servers and proxies answer 404 without S3's error body; a missing bucket is
  // a configuration mistake and must not read as "no such attachment".
  return error.$metadata.httpStatusCode === 404 && error.name !== "NoSuchBucket";
}
