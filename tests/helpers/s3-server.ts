import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import S3rver from "s3rver";

// An S3-compatible server on loopback for tests: s3rver (an S3 written for Node,
// objects in a temp dir) behind a plain HTTP server, spoken to over real S3 HTTP
// with SigV4 signatures checked. s3rver 3.7 has no AbortMultipartUpload nor
// ListMultipartUploads; this server answers those two itself, from s3rver's own
// upload folders, so an aborted upload really goes and a test can see what is left.
//
// With S3_TEST_ENDPOINT set, tests use that server instead (MinIO, AWS, R2...):
// S3_TEST_BUCKET (an existing bucket), S3_TEST_REGION, S3_TEST_ACCESS_KEY_ID,
// S3_TEST_SECRET_ACCESS_KEY, S3_TEST_FORCE_PATH_STYLE ("false" for virtual hosts).

export interface S3TestServer {
  /** "s3rver", or "external" for S3_TEST_ENDPOINT. */
  kind: "s3rver" | "external";
  /** Options for S3AttachmentStorage, less the prefix. */
  config: {
    bucket: string;
    region: string;
    endpoint: string;
    accessKeyId: string;
    secretAccessKey: string;
    forcePathStyle: boolean;
  };
  /** A client of its own, for looking at the bucket from outside the code under test. */
  client: S3Client;
  /** Keys of multipart uploads under `prefix` begun and neither completed nor aborted. */
  pendingUploads(prefix: string): Promise<string[]>;
  /** Deletes the objects and aborts the uploads under `prefix` (a run's leftovers on a shared server). */
  clear(prefix: string): Promise<void>;
  /**
   * Answers the next `count` AbortMultipartUpload calls with 403 AccessDenied, as for
   * credentials without s3:AbortMultipartUpload. s3rver only.
   */
  refuseAborts(count: number): void;
  close(): Promise<void>;
}

const BUCKET = "chatline-test";
/** s3rver's built-in account. */
const S3RVER_KEY = "S3RVER";
/** Where s3rver keeps a bucket's unfinished multipart uploads, one folder per upload id. */
const UPLOADS_FOLDER = "._S3rver_uploads";

export async function startS3TestServer(): Promise<S3TestServer> {
  const external = process.env.S3_TEST_ENDPOINT;
  if (external) {
    const config = {
      bucket: required("S3_TEST_BUCKET"),
      region: process.env.S3_TEST_REGION ?? "us-east-1",
      endpoint: external,
      accessKeyId: required("S3_TEST_ACCESS_KEY_ID"),
      secretAccessKey: required("S3_TEST_SECRET_ACCESS_KEY"),
      forcePathStyle: process.env.S3_TEST_FORCE_PATH_STYLE !== "false",
    };
    return withClient("external", config, async () => undefined, () => {
      throw new Error("refuseAborts needs the s3rver test server");
    });
  }

  const directory = await mkdtemp(path.join(tmpdir(), "chatline-s3-"));
  const s3rver = new S3rver({ directory, silent: true, vhostBuckets: false });
  const handle = s3rver.callback();
  let abortsToRefuse = 0;
  const server = createServer((request, response) => {
    const missing = multipartCallOf(request);
    if (!missing) {
      handle(request, response);
      return;
    }
    if (missing.kind === "abort" && abortsToRefuse > 0) {
      abortsToRefuse -= 1;
      sendXml(response, 403, errorXml("AccessDenied", "Access Denied"));
      return;
    }
    answerMultipartCall(directory, missing, response).catch((error: unknown) => {
      sendXml(response, 500, errorXml("InternalError", String(error)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const config = {
    bucket: BUCKET,
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    forcePathStyle: true,
  };
  const started = await withClient(
    "s3rver",
    config,
    async () => {
      // Clients keep connections alive; close() would wait for them otherwise.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    },
    (count) => {
      abortsToRefuse = count;
    },
  );
  try {
    await started.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  } catch (error) {
    await started.close();
    throw error;
  }
  return started;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is needed with S3_TEST_ENDPOINT`);
  return value;
}

async function withClient(
  kind: S3TestServer["kind"],
  config: S3TestServer["config"],
  stop: () => Promise<void>,
  refuseAborts: (count: number) => void,
): Promise<S3TestServer> {
  const client = new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const pendingUploads = async (prefix: string) => {
    const keys: string[] = [];
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (;;) {
      const page = await client.send(new ListMultipartUploadsCommand({ Bucket: config.bucket, Prefix: prefix, KeyMarker, UploadIdMarker }));
      keys.push(...(page.Uploads ?? []).map((upload) => upload.Key ?? ""));
      if (!page.IsTruncated) return keys.sort();
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
  };
  return {
    kind,
    config,
    client,
    pendingUploads,
    refuseAborts,
    async clear(prefix) {
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: config.bucket, Prefix: prefix, ContinuationToken }));
        const Objects = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
        if (Objects.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: config.bucket, Delete: { Objects, Quiet: true } }));
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: config.bucket, Prefix: prefix }));
      for (const upload of uploads.Uploads ?? []) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: config.bucket, Key: upload.Key!, UploadId: upload.UploadId! }));
      }
    },
    async close() {
      client.destroy();
      await stop();
    },
  };
}

// --- The two multipart calls s3rver lacks ---------------------------------------

type MultipartCall =
  | { kind: "abort"; bucket: string; key: string; uploadId: string }
  | { kind: "list"; bucket: string; prefix: string };

/** DELETE /bucket/key?uploadId=… (AbortMultipartUpload) or GET /bucket?uploads (ListMultipartUploads). */
function multipartCallOf(request: IncomingMessage): MultipartCall | null {
  const url = new URL(request.url ?? "/", "http://s3.test");
  const [bucket = "", ...keyParts] = url.pathname.slice(1).split("/");
  let key: string;
  try {
    key = keyParts.map((part) => decodeURIComponent(part)).join("/");
  } catch {
    return null;
  }
  const uploadId = url.searchParams.get("uploadId");
  if (request.method === "DELETE" && uploadId !== null && key) return { kind: "abort", bucket, key, uploadId };
  if (request.method === "GET" && url.searchParams.has("uploads") && !key) {
    return { kind: "list", bucket, prefix: url.searchParams.get("prefix") ?? "" };
  }
  return null;
}

async function answerMultipartCall(directory: string, call: MultipartCall, response: ServerResponse): Promise<void> {
  const uploadsDir = path.join(directory, call.bucket, UPLOADS_FOLDER);
  if (call.kind === "abort") {
    // Only s3rver's own ids (hex) name a folder here: nothing else reaches the disk.
    const known = /^[0-9a-f]+$/.test(call.uploadId) ? await readFile(path.join(uploadsDir, call.uploadId, "key"), "utf8").catch(() => null) : null;
    if (known !== call.key) {
      sendXml(response, 404, errorXml("NoSuchUpload", "The specified multipart upload does not exist."));
      return;
    }
    await rm(path.join(uploadsDir, call.uploadId), { recursive: true, force: true });
    response.writeHead(204).end();
    return;
  }
  const ids = await readdir(uploadsDir).catch(() => [] as string[]);
  const uploads: { key: string; id: string }[] = [];
  for (const id of ids) {
    const key = await readFile(path.join(uploadsDir, id, "key"), "utf8").catch(() => null);
    if (key !== null && key.startsWith(call.prefix)) uploads.push({ key, id });
  }
  uploads.sort((a, b) => (a.key === b.key ? a.id.localeCompare(b.id) : a.key < b.key ? -1 : 1));
  sendXml(
    response,
    200,
    `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Bucket>${escapeXml(call.bucket)}</Bucket><Prefix>${escapeXml(call.prefix)}</Prefix><IsTruncated>false</IsTruncated>` +
      uploads.map((upload) => `<Upload><Key>${escapeXml(upload.key)}</Key><UploadId>${upload.id}</UploadId></Upload>`).join("") +
      `</ListMultipartUploadsResult>`,
  );
}

function errorXml(code: string, message: string): string {
  return `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
}

function sendXml(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { "content-type": "application/xml" }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
