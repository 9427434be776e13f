#!/usr/bin/env node
// Runs the Dockerfile's steps without Docker, in a clean temporary directory, and
// checks that the result starts and answers /api/health. No Docker engine runs on
// our machines; this is the proof that the image's steps work.
//
//   node scripts/docker-steps-check.mjs [--keep]
//
// 1. build context: the files git would commit (tracked and new, not ignored),
//    minus .dockerignore, copied into <tmp>/build   (COPY . .)
// 2. deps:    npm install --ignore-scripts           (stage "deps")
// 3. build:   npm run build && rm -rf .next/cache    (stage "build")
// 4. runtime: package.json + lock into <tmp>/runtime, npm install --omit=dev,
//             prune-dev-optional.mjs, then next.config.mjs, prisma/, dist/, .next/
//             from the build   (stage "runtime")
// 5. start:   node dist/server.js with the image's environment (NODE_ENV=production,
//             no DATABASE_URL: embedded database in DATA_DIR), wait for /api/health = 200,
//             a page from Next.js, then SIGTERM and a clean exit.
// It runs as the current user (the image uses `node`) and prints each step's time.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const keep = process.argv.includes("--keep");
const work = mkdtempSync(path.join(tmpdir(), "chatline-docker-"));
const buildDir = path.join(work, "build");
const runtimeDir = path.join(work, "runtime");
const timings = [];
const started = Date.now();

function step(name, fn) {
  const at = Date.now();
  process.stdout.write(`\n== ${name}\n`);
  const result = fn();
  const finish = (value) => {
    timings.push([name, (Date.now() - at) / 1000]);
    return value;
  };
  return result instanceof Promise ? result.then(finish) : finish(result);
}

function run(cwd, command, args, env = {}) {
  const result = spawnSync(command, args, { cwd, stdio: "inherit", env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed in ${cwd} (exit ${result.status})`);
}

/** .dockerignore patterns (relative to the context root, Go filepath.Match plus **). */
function dockerIgnore() {
  const file = path.join(root, ".dockerignore");
  if (!existsSync(file)) return () => false;
  const patterns = readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const negated = line.startsWith("!");
      const body = (negated ? line.slice(1) : line).replace(/^\/+|\/+$/g, "");
      const source = body
        .split("/")
        .map((part) => (part === "**" ? ".*" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")))
        .join("/");
      // A pattern that names a directory excludes everything under it.
      return { negated, regex: new RegExp(`^${source}(/.*)?$`) };
    });
  return (file) => {
    let excluded = false;
    for (const { negated, regex } of patterns) if (regex.test(file)) excluded = !negated;
    return excluded;
  };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url, accept, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { redirect: "manual" });
      const body = await response.text();
      if (accept(response.status)) return { status: response.status, body };
      last = `${response.status} ${body.slice(0, 200)}`;
    } catch (error) {
      last = String(error.cause?.code ?? error.message);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url} did not answer as expected within ${timeoutMs / 1000} s (last: ${last})`);
}

let server;
try {
  step("context: copy the files a docker build would see", () => {
    const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" });
    if (listed.status !== 0) throw new Error("git ls-files failed");
    const ignored = dockerIgnore();
    const files = [...new Set(listed.stdout.split("\0").filter(Boolean))].filter((file) => !ignored(file) && existsSync(path.join(root, file)));
    for (const file of files) {
      mkdirSync(path.dirname(path.join(buildDir, file)), { recursive: true });
      cpSync(path.join(root, file), path.join(buildDir, file));
    }
    console.log(`${files.length} files in ${buildDir}`);
  });
  step("deps: npm install", () => run(buildDir, "npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund"]));
  step("build: npm run build", () => {
    run(buildDir, "npm", ["run", "build"], { NEXT_TELEMETRY_DISABLED: "1" });
    rmSync(path.join(buildDir, ".next/cache"), { recursive: true, force: true });
  });
  step("runtime: npm install --omit=dev + build output", () => {
    mkdirSync(path.join(runtimeDir, "scripts"), { recursive: true });
    for (const file of ["package.json", "package-lock.json", "scripts/prune-dev-optional.mjs"]) {
      cpSync(path.join(buildDir, file), path.join(runtimeDir, file));
    }
    run(runtimeDir, "npm", ["install", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"]);
    run(runtimeDir, process.execPath, ["scripts/prune-dev-optional.mjs"]);
    for (const entry of ["next.config.mjs", "prisma", "dist", ".next"]) {
      cpSync(path.join(buildDir, entry), path.join(runtimeDir, entry), { recursive: true });
    }
    // Nothing the lockfile marks dev-only, nor dev packages that production ones
    // name only as optional peers ("devOptional": the Prisma CLI, @playwright/test).
    const lock = JSON.parse(readFileSync(path.join(runtimeDir, "package-lock.json"), "utf8"));
    const devOnly = Object.entries(lock.packages).filter(([key, entry]) => key && (entry.dev === true || entry.devOptional === true));
    const present = devOnly.filter(([key]) => existsSync(path.join(runtimeDir, key)));
    if (present.length > 0) throw new Error(`dev packages in the runtime: ${present.map(([key]) => key).join(", ")}`);
    console.log(`none of the ${devOnly.length} dev and dev-optional packages is installed`);
    mkdirSync(path.join(runtimeDir, ".data"), { recursive: true });
  });
  await step("start: node dist/server.js answers /api/health and a page", async () => {
    const port = await freePort();
    const env = { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", HOST: "127.0.0.1", PORT: String(port), DATA_DIR: path.join(runtimeDir, ".data"), LOG_LEVEL: "info" };
    for (const name of ["DATABASE_URL", "REDIS_URL", "NEXTAUTH_SECRET", "APP_URL", "NEXTAUTH_URL"]) delete env[name];
    server = spawn(process.execPath, ["dist/server.js"], { cwd: runtimeDir, env, stdio: ["ignore", "inherit", "inherit"] });
    const exited = new Promise((resolve) => server.once("exit", (code, signal) => resolve({ code, signal })));
    const health = await Promise.race([
      waitFor(`http://127.0.0.1:${port}/api/health`, (status) => status === 200, 180_000),
      exited.then(({ code }) => Promise.reject(new Error(`the server exited (${code}) before it was healthy`))),
    ]);
    console.log(`/api/health: ${health.status} ${health.body}`);
    const page = await waitFor(`http://127.0.0.1:${port}/sign-in`, (status) => status === 200, 60_000);
    console.log(`/sign-in: ${page.status} (${page.body.length} bytes of HTML)`);
    server.kill("SIGTERM");
    const { code } = await exited;
    server = undefined;
    if (code !== 0) throw new Error(`the server exited with ${code} after SIGTERM`);
    console.log("stopped cleanly on SIGTERM");
  });
  console.log("\nAll Dockerfile steps passed.");
} catch (error) {
  console.error(`\nFAILED: ${error.message}`);
  process.exitCode = 1;
} finally {
  server?.kill("SIGKILL");
  for (const [name, seconds] of timings) console.log(`${seconds.toFixed(1).padStart(7)} s  ${name}`);
  console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(7)} s  total`);
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
