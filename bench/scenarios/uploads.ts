import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import sharp from "sharp";
import { createNodeTrpcClient, type NodeTrpcClient } from "~/trpc/node-client";
import { listOption, numberOption } from "../lib/args";
import { createBenchDatabase } from "../lib/database";
import { machineLine } from "../lib/machine";
import { createUsers, type BenchUser } from "../lib/people";
import { cpuPercent, sampleProcess } from "../lib/process-usage";
import { BENCH_SECRET, killOnExit } from "../lib/servers";
import { BUILD_ID, ensureProductionBuild, SERVER_ENTRY } from "../lib/production-build";
import { freePort } from "../lib/redis-process";
import { ms, summarize, table } from "../lib/stats";

// `uploads`: file attachments through the production build. The upload and
// download paths are Next.js route handlers, which bench/app-server-main.ts (no
// Next.js pages) cannot serve, so this scenario starts `node dist/server.js`
// (NODE_ENV=production) on a fresh database, files on the local disk under a
// temporary DATA_DIR.
//
// Every upload is a real POST /api/attachments with a Content-Length and a body
// streamed in 64 KiB chunks, so the harness never holds a whole file either. The
// steps: random binary files of each --sizes, one at a time then --concurrency at
// a time; 12-megapixel JPEG photos (the server makes a WebP thumbnail of each with
// sharp, at most two at a time) next to random files of the same byte size, which
// tells the thumbnail's share; then downloads of the largest file, sent in a
// message, by the other member. Per step: uploads/s, MB/s (MB = 2^20 bytes, as
// the other tables), latency per request (until the whole answer is read), the
// server's peak RSS over its RSS at rest just before the step (VmRSS sampled
// every 25 ms: what streaming does not need is what a buffered upload would
// add), and the server's CPU.

const MiB = 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const RSS_SAMPLE_MS = 25;
/** Time the server is left alone before each step's RSS at rest is read. */
const SETTLE_MS = 1500;
const START_TIMEOUT_MS = 120_000;
const IMAGE_WIDTH = 4000;
const IMAGE_HEIGHT = 3000;
/**
 * Random binary files begin with this, then random bytes: 2-byte magic numbers
 * ("BM", "MZ") would otherwise make about one file in 30,000 a "bitmap" or an
 * executable.
 */
const BINARY_HEADER = Buffer.from("CHATLINE-BENCH\n\0");

const sleep = (delay: number) => new Promise((resolve) => setTimeout(resolve, delay));


// ---------------------------------------------------------------------------
// The server under test

interface RunningServer {
  child: ChildProcess;
  pid: number;
  /** Where the harness connects. */
  baseUrl: string;
  /** APP_URL, sent as Origin as the app's own pages would. */
  origin: string;
  /** The last lines it wrote (stdout and stderr), for its error if it fails. */
  log: string[];
  exited: Promise<void>;
}

function startServer(databaseUrl: string, dataDir: string, port: number): RunningServer {
  const origin = `http://localhost:${port}`;
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    HOST: "127.0.0.1",
    PORT: String(port),
    APP_URL: origin,
    NEXTAUTH_SECRET: BENCH_SECRET,
    LOG_LEVEL: "warn",
    SEED_DEMO_USERS: "false",
    MESSAGING_ALLOW_FILE_ATTACHMENTS: "true",
    MESSAGING_MAX_FILE_SIZE: String(100 * MiB),
    MESSAGING_ALLOWED_FILE_TYPES: "image/*,application/pdf,application/octet-stream",
    MESSAGING_RATE_LIMIT_PER_MINUTE: "10000",
  };
  // Files on the local disk of DATA_DIR, one process: nothing from the shell's environment changes that.
  for (const name of ["REDIS_URL", "S3_BUCKET", "UPLOADS_DIR", "NEXTAUTH_URL", "ALLOWED_ORIGINS"]) delete env[name];
  const child = spawn(process.execPath, [...nodeArgs, SERVER_ENTRY], { env, stdio: ["ignore", "pipe", "pipe"] });
  const log: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      if (process.env.BENCH_SERVER_STDERR === "1") process.stderr.write(`${line}\n`);
      log.push(line);
      if (log.length > 200) log.shift();
    });
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { child, pid: child.pid!, baseUrl: `http://127.0.0.1:${port}`, origin, log, exited };
}

function hasExited(server: RunningServer): boolean {
  return server.child.exitCode !== null || server.child.signalCode !== null;
}

function exitError(server: RunningServer): Error {
  return new Error(`${SERVER_ENTRY} exited with ${server.child.exitCode ?? server.child.signalCode}:\n${server.log.join("\n")}`);
}

async function waitHealthy(server: RunningServer): Promise<void> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (hasExited(server)) throw exitError(server);
    const response = await fetch(`${server.baseUrl}/api/health`).catch(() => null);
    await response?.arrayBuffer().catch(() => undefined);
    if (response?.status === 200) return;
    await sleep(100);
  }
  throw new Error(`uploads: /api/health did not answer 200 within ${START_TIMEOUT_MS / 1000} s:\n${server.log.join("\n")}`);
}

async function stopServer(server: RunningServer): Promise<void> {
  if (hasExited(server)) return;
  server.child.kill("SIGTERM");
  const killer = setTimeout(() => server.child.kill("SIGKILL"), 15_000);
  await server.exited;
  clearTimeout(killer);
}

// ---------------------------------------------------------------------------
// Memory and CPU of the server

function vmRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** The highest VmRSS seen every RSS_SAMPLE_MS until stopped. */
function watchPeakRss(pid: number): { stop(): number } {
  let peak = vmRssBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, vmRssBytes(pid));
    } catch {
      // The process is gone; the step fails on its own terms.
    }
  }, RSS_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      try {
        peak = Math.max(peak, vmRssBytes(pid));
      } catch {
        // as above
      }
      return peak;
    },
  };
}

// ---------------------------------------------------------------------------
// Request bodies, streamed in 64 KiB chunks

/** 4 MiB of random bytes the binary bodies are cut from: the harness's CPU goes to sending, not to making randomness. */
const RANDOM_POOL = Array.from({ length: 64 }, () => randomBytes(CHUNK_BYTES));

/** `size` random bytes (a fresh random first chunk, then chunks of the pool from a random place), produced as they are sent. */
function randomBody(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  let next = randomInt(RANDOM_POOL.length);
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) return controller.close();
      const length = Math.min(CHUNK_BYTES, size - sent);
      let chunk: Uint8Array;
      if (sent === 0) {
        const first = randomBytes(length);
        BINARY_HEADER.copy(first, 0, 0, Math.min(BINARY_HEADER.length, length));
        chunk = first;
      } else {
        chunk = RANDOM_POOL[next]!.subarray(0, length);
        next = (next + 1) % RANDOM_POOL.length;
      }
      sent += length;
      controller.enqueue(chunk);
    },
  });
}

/** A buffer the harness holds (the test photo), sent in 64 KiB views of it. */
function bufferBody(buffer: Buffer): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= buffer.length) return controller.close();
      const chunk = buffer.subarray(offset, offset + CHUNK_BYTES);
      offset += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

/**
 * A JPEG photo's worth of bytes: smooth colour blobs (an 80x60 field of noise
 * scaled up) with a fine grain over them, so it neither compresses to nothing
 * nor is pure noise; quality 90 as a phone camera saves.
 */
async function makeJpeg(width: number, height: number): Promise<Buffer> {
  const blobs = await sharp({
    create: { width: 80, height: 60, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 60 } },
  })
    .png()
    .toBuffer();
  const smooth = await sharp(blobs).resize(width, height, { kernel: "cubic", fit: "fill" }).raw().toBuffer();
  const grain = await sharp({
    create: { width, height, channels: 3, background: "#000000", noise: { type: "gaussian", mean: 128, sigma: 12 } },
  })
    .raw()
    .toBuffer();
  for (let i = 0; i < smooth.length; i += 1) smooth[i] = Math.max(0, Math.min(255, smooth[i]! + grain[i]! - 128));
  return sharp(smooth, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

// ---------------------------------------------------------------------------
// The API, as the web client uses it

interface Uploaded {
  id: string;
  name: string;
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
  hasThumbnail: boolean;
}

interface Context {
  server: RunningServer;
  conversationId: string;
  uploader: BenchUser;
  reader: BenchUser;
}

async function upload(context: Context, name: string, size: number, body: ReadableStream<Uint8Array>): Promise<Uploaded> {
  const { server, conversationId, uploader } = context;
  const url = `${server.baseUrl}/api/attachments?conversationId=${conversationId}&name=${encodeURIComponent(name)}`;
  const init: RequestInit & { duplex: "half" } = {
    method: "POST",
    body,
    duplex: "half",
    headers: { "content-length": String(size), "content-type": "application/octet-stream", cookie: uploader.cookie, origin: server.origin },
  };
  const response = await fetch(url, init);
  const text = await response.text();
  if (response.status !== 201) throw new Error(`POST /api/attachments answered ${response.status}: ${text.slice(0, 300)}`);
  const { attachment } = JSON.parse(text) as { attachment: Uploaded };
  if (attachment.size !== size) throw new Error(`the server stored ${attachment.size} bytes of ${size}`);
  return attachment;
}

/** GET /api/attachments/<id> as the other member, the whole body read (and counted, never kept). */
async function download(context: Context, attachment: Uploaded): Promise<number> {
  const response = await fetch(`${context.server.baseUrl}/api/attachments/${attachment.id}`, { headers: { cookie: context.reader.cookie } });
  if (response.status !== 200 || !response.body) {
    throw new Error(`GET /api/attachments/${attachment.id} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
  if (bytes !== attachment.size) throw new Error(`downloaded ${bytes} bytes of ${attachment.size}`);
  return bytes;
}

async function sendFiles(api: NodeTrpcClient["api"], conversationId: string, attachments: Uploaded[]): Promise<void> {
  await api.messages.send.mutate({ conversationId, content: "", clientMessageId: randomUUID(), attachmentIds: attachments.map((a) => a.id) });
}

// ---------------------------------------------------------------------------
// Steps

interface StepResult {
  what: string;
  concurrency: number;
  count: number;
  ok: number;
  bytes: number;
  seconds: number;
  latencies: number[];
  errors: string[];
  idleRss: number;
  peakRss: number;
  serverCpu: number;
  harnessCpu: number;
}

/** `count` jobs, `concurrency` at a time; each returns the bytes it moved. */
async function measureStep(
  server: RunningServer,
  what: string,
  concurrency: number,
  count: number,
  job: (index: number) => Promise<number>,
): Promise<StepResult> {
  await sleep(SETTLE_MS);
  if (hasExited(server)) throw exitError(server);
  const idleRss = vmRssBytes(server.pid);
  const watch = watchPeakRss(server.pid);
  const serverBefore = sampleProcess(server.pid);
  const harnessBefore = process.cpuUsage();
  const started = performance.now();
  const latencies: number[] = [];
  const errors: string[] = [];
  let bytes = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        const t0 = performance.now();
        try {
          // Not `bytes += await job()`: that reads `bytes` before the await and loses the other workers' additions.
          const moved = await job(index);
          bytes += moved;
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors.push(error instanceof Error ? error.message : String(error));
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const peakRss = watch.stop();
  const serverCpu = hasExited(server) ? Number.NaN : cpuPercent(serverBefore, sampleProcess(server.pid));
  const harness = process.cpuUsage(harnessBefore);
  if (hasExited(server)) throw exitError(server);
  return {
    what,
    concurrency,
    count,
    ok: latencies.length,
    bytes,
    seconds,
    latencies,
    errors,
    idleRss,
    peakRss,
    serverCpu,
    harnessCpu: ((harness.user + harness.system) / 1e6 / seconds) * 100,
  };
}

const mb = (bytes: number, digits = 1) => (Number.isFinite(bytes) ? (bytes / MiB).toFixed(digits) : "-");

const HEADER = ["file", "conc", "ok", "req/s", "MB/s", "p50 ms", "p99 ms", "max ms", "errors", "RSS at rest MB", "peak +RSS MB", "server CPU%", "harness CPU%"];

function row(step: StepResult): (string | number)[] {
  const latency = summarize(step.latencies);
  return [
    step.what,
    step.concurrency,
    `${step.ok}/${step.count}`,
    (step.ok / step.seconds).toFixed(2),
    mb(step.bytes / step.seconds),
    ms(latency.p50),
    ms(latency.p99),
    ms(latency.max),
    step.errors.length,
    mb(step.idleRss, 0),
    mb(step.peakRss - step.idleRss),
    Number.isFinite(step.serverCpu) ? step.serverCpu.toFixed(0) : "-",
    step.harnessCpu.toFixed(0),
  ];
}

function printTable(title: string, steps: StepResult[]): void {
  console.log(`\n${title}\n${table(HEADER, steps.map(row))}`);
  const errors = [...new Set(steps.flatMap((step) => step.errors))];
  for (const error of errors.slice(0, 5)) console.log(`  error: ${error}`);
}

const sizeLabel = (bytes: number) => (bytes >= MiB ? `${mb(bytes, bytes % MiB === 0 ? 0 : 1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`);

export async function runUploads(options: Map<string, string>): Promise<void> {
  const sizesMiB = listOption(options, "sizes", [1, 10, 50]).filter((size) => size > 0);
  const count = numberOption(options, "count", 10);
  const concurrencies = listOption(options, "concurrency", [1, 4]).filter((c) => c >= 1);
  const imageCount = numberOption(options, "images", 10);
  const downloadCount = numberOption(options, "downloads", 10);
  if (sizesMiB.length === 0 || concurrencies.length === 0) throw new Error("uploads: --sizes and --concurrency need at least one value");
  if (Math.max(...sizesMiB) > 100) throw new Error("uploads: the server is started with MESSAGING_MAX_FILE_SIZE=100 MiB; --sizes must stay within it");
  ensureProductionBuild("uploads", { build: options.get("build") === "true", entries: [SERVER_ENTRY], why: "the attachment routes are Next.js route handlers" });

  console.log(
    `uploads: ${SERVER_ENTRY} (NODE_ENV=production, build ${statSync(BUILD_ID).mtime.toISOString()}), files on the local disk (${tmpdir()}); ` +
      `random binary files of ${sizesMiB.join(", ")} MiB x ${count}, ${IMAGE_WIDTH}x${IMAGE_HEIGHT} JPEGs x ${imageCount}, ` +
      `${downloadCount} downloads of the ${Math.max(...sizesMiB)} MiB file; concurrency ${concurrencies.join(", ")}; ${await machineLine()}`,
  );

  const database = await createBenchDatabase("uploads");
  const dataDir = mkdtempSync(path.join(tmpdir(), "chatline-bench-uploads-"));
  let server: RunningServer | undefined;
  let client: NodeTrpcClient | undefined;
  const stopKillingOnExit = killOnExit(() => server?.child.kill("SIGKILL"));
  let errorCount: number;
  try {
    const photo = await makeJpeg(IMAGE_WIDTH, IMAGE_HEIGHT);
    const smallPhoto = await makeJpeg(640, 480);
    console.log(`test photo: ${IMAGE_WIDTH}x${IMAGE_HEIGHT} JPEG (quality 90), ${photo.length} bytes (${mb(photo.length, 2)} MiB)`);

    server = startServer(database.url, dataDir, await freePort());
    await waitHealthy(server);
    const [uploader, reader] = await createUsers(database.url, 2, "uploads");
    client = createNodeTrpcClient({ baseUrl: server.baseUrl, cookie: uploader!.cookie, origin: server.origin });
    const { id: conversationId } = await client.api.conversations.createDirect.mutate({ recipientId: reader!.id });
    const context: Context = { server, conversationId, uploader: uploader!, reader: reader! };

    // Warm-up: the first requests load the route handlers, sharp and libvips; that is start-up, not uploading.
    const warm = [
      await upload(context, "warm-up.bin", 256 * 1024, randomBody(256 * 1024)),
      await upload(context, "warm-up.jpg", smallPhoto.length, bufferBody(smallPhoto)),
    ];
    await sendFiles(client.api, conversationId, warm);
    for (const attachment of warm) await download(context, attachment);
    console.log(`server pid ${server.pid}, RSS after start-up and a warm-up upload/download ${mb(vmRssBytes(server.pid), 0)} MB`);

    // 1. Random binary files.
    const binarySteps: StepResult[] = [];
    const largest = Math.max(...sizesMiB) * MiB;
    const largestUploads: Uploaded[] = [];
    for (const sizeMiB of sizesMiB) {
      const size = sizeMiB * MiB;
      for (const concurrency of concurrencies) {
        binarySteps.push(
          await measureStep(server, `${sizeLabel(size)} binary`, concurrency, count, async (index) => {
            const attachment = await upload(context, `random-${sizeMiB}MiB-c${concurrency}-${index}.bin`, size, randomBody(size));
            if (attachment.contentType !== "application/octet-stream") throw new Error(`random bytes were taken for ${attachment.contentType}`);
            if (size === largest) largestUploads.push(attachment);
            return size;
          }),
        );
      }
    }
    printTable(
      "1. Uploads of random binary files (application/octet-stream), each request until its 201; peak +RSS: the server's highest VmRSS during the step over its RSS at rest before it",
      binarySteps,
    );

    // 2. Photos, and random bytes of the same size for comparison: the difference is mostly the thumbnail.
    const imageSteps: StepResult[] = [];
    for (const concurrency of concurrencies) {
      imageSteps.push(
        await measureStep(server, `${IMAGE_WIDTH}x${IMAGE_HEIGHT} JPEG`, concurrency, imageCount, async (index) => {
          const attachment = await upload(context, `photo-c${concurrency}-${index}.jpg`, photo.length, bufferBody(photo));
          if (!attachment.hasThumbnail || attachment.width !== IMAGE_WIDTH || attachment.height !== IMAGE_HEIGHT) {
            throw new Error(`the photo came back as ${attachment.contentType} ${attachment.width}x${attachment.height}, thumbnail ${attachment.hasThumbnail}`);
          }
          return photo.length;
        }),
      );
      imageSteps.push(
        await measureStep(server, `${sizeLabel(photo.length)} binary`, concurrency, imageCount, async (index) => {
          await upload(context, `same-size-c${concurrency}-${index}.bin`, photo.length, randomBody(photo.length));
          return photo.length;
        }),
      );
    }
    printTable(
      `2. Uploads of a ${IMAGE_WIDTH}x${IMAGE_HEIGHT} JPEG photo (${mb(photo.length, 2)} MiB; the 201 comes after the server has made its 640 px WebP thumbnail with sharp, at most 2 at a time), ` +
        "next to random binary files of the same size",
      imageSteps,
    );

    // 3. Downloads of the largest file by the other member, once it is sent in a message.
    const source = largestUploads[0] ?? (await upload(context, "download.bin", largest, randomBody(largest)));
    await sendFiles(client.api, conversationId, [source]);
    const downloadSteps: StepResult[] = [];
    for (const concurrency of concurrencies) {
      downloadSteps.push(
        await measureStep(server, `${sizeLabel(source.size)} download`, concurrency, downloadCount, () => download(context, source)),
      );
    }
    printTable(`3. Downloads (GET /api/attachments/<id> by the other member, the whole body read) of a ${sizeLabel(source.size)} file`, downloadSteps);

    const all = [...binarySteps, ...imageSteps, ...downloadSteps];
    errorCount = all.reduce((sum, step) => sum + step.errors.length, 0);
    const find = (steps: StepResult[], what: string, concurrency: number) => steps.find((s) => s.what === what && s.concurrency === concurrency);
    const top = Math.max(...concurrencies);
    const one = Math.min(...concurrencies);
    const largestTop = find(binarySteps, `${sizeLabel(largest)} binary`, top);
    const photoOne = find(imageSteps, `${IMAGE_WIDTH}x${IMAGE_HEIGHT} JPEG`, one);
    const photoTop = find(imageSteps, `${IMAGE_WIDTH}x${IMAGE_HEIGHT} JPEG`, top);
    const sameSizeOne = find(imageSteps, `${sizeLabel(photo.length)} binary`, one);
    const downloadTop = find(downloadSteps, `${sizeLabel(source.size)} download`, top);
    const p50 = (step: StepResult | undefined) => summarize(step?.latencies ?? []).p50;
    const rate = (step: StepResult | undefined) => (step ? mb(step.bytes / step.seconds, 0) : "-");
    const growth = (step: StepResult | undefined) => (step ? mb(step.peakRss - step.idleRss) : "-");
    console.log(
      `\nSUMMARY uploads: ${sizeLabel(largest)} random files at concurrency ${top}: ${rate(largestTop)} MB/s, ` +
        `p50 ${ms(p50(largestTop))} ms, server RSS +${growth(largestTop)} MB at peak; ` +
        `${IMAGE_WIDTH}x${IMAGE_HEIGHT} JPEG (${mb(photo.length, 2)} MiB) p50 ${ms(p50(photoOne))} ms one at a time ` +
        `(random bytes of the same size ${ms(p50(sameSizeOne))} ms), p50 ${ms(p50(photoTop))} ms at ${top}, RSS +${growth(photoTop)} MB; ` +
        `downloads of ${sizeLabel(source.size)} at ${top}: ${rate(downloadTop)} MB/s, RSS +${growth(downloadTop)} MB; errors ${errorCount}`,
    );
  } finally {
    await client?.close().catch(() => undefined);
    if (server) await stopServer(server);
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
    stopKillingOnExit();
  }
  if (errorCount > 0) process.exit(1);
}
