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
//             from the build   (stage "runtime"). Before and after the prune, every
//             installed top-level package with a JavaScript entry is loaded (require,
//             or import for ESM-only ones) in a child process: whatever loaded before
//             the prune must load after it, so a dependency it removed that a
//             remaining package needs (sharp's detect-libc) fails the check.
// 5. start:   node dist/server.js with the image's environment (NODE_ENV=production,
//             no DATABASE_URL: embedded database in DATA_DIR), wait for /api/health = 200,
//             a page from Next.js, then SIGTERM and a clean exit.
// It runs as the current user (the image uses `node`) and prints each step's time.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
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

/** Disk usage of a folder in MiB, as `du -sm` counts it (blocks; hard links once). */
function diskUsageMiB(dir) {
  const seen = new Set();
  let bytes = 0;
  const walk = (entry) => {
    const stat = lstatSync(entry);
    if (seen.has(stat.ino)) return;
    seen.add(stat.ino);
    bytes += stat.blocks * 512;
    if (stat.isDirectory()) for (const name of readdirSync(entry)) walk(path.join(entry, name));
  };
  walk(dir);
  return Math.ceil(bytes / 1024 / 1024);
}

// Run with `node --input-type=module -e` in the runtime folder (so names resolve
// from there, as the server's do): loads each top-level package of node_modules
// and writes { name: "ok" | "no entry" | "not JavaScript: <file>" | "<code>: <message>" }
// to the file named by its argument. Loads go by require (what the server's
// bundles use) unless the package has only an import entry or is ESM that require
// cannot load. One process for all; stdout is ignored (packages may print).
const LOAD_CHECK = `
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
const require = createRequire(path.resolve("package.json"));
const names = [];
for (const entry of readdirSync("node_modules")) {
  if (entry.startsWith(".")) continue;
  if (entry.startsWith("@")) for (const sub of readdirSync(path.join("node_modules", entry))) names.push(entry + "/" + sub);
  else names.push(entry);
}
const failure = (error) => (error?.code ?? error?.name ?? "Error") + ": " + String(error?.message ?? error).split("\\n")[0];
const results = {};
for (const name of names.sort()) {
  if (!existsSync(path.join("node_modules", name, "package.json"))) continue;
  let file;
  let viaRequire = true;
  try {
    file = require.resolve(name);
  } catch {
    viaRequire = false;
    try {
      file = fileURLToPath(import.meta.resolve(name));
    } catch {
      results[name] = "no entry";
      continue;
    }
  }
  if (!/\\.(c|m)?js$|\\.json$|\\.node$/.test(file)) {
    results[name] = "not JavaScript: " + path.relative(path.join("node_modules", name), file);
    continue;
  }
  try {
    if (viaRequire) require(name);
    else await import(name);
    results[name] = "ok";
  } catch (error) {
    if (viaRequire && (error?.code === "ERR_REQUIRE_ESM" || error?.code === "ERR_REQUIRE_ASYNC_MODULE")) {
      try {
        await import(name);
        results[name] = "ok";
      } catch (again) {
        results[name] = failure(again);
      }
    } else {
      results[name] = failure(error);
    }
  }
}
writeFileSync(process.argv[1], JSON.stringify(results));
process.exit(0);
`;

/** Loads every top-level package installed in the runtime folder (LOAD_CHECK); its results by name. */
function loadInstalledPackages(label) {
  const out = path.join(work, `load-${label}.json`);
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", LOAD_CHECK, "--", out], {
    cwd: runtimeDir,
    env: { ...process.env, NODE_ENV: "production" },
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
    timeout: 180_000,
  });
  if (result.status !== 0 || !existsSync(out)) {
    throw new Error(`loading the installed packages (${label}) did not finish (exit ${result.status}${result.signal ? `, ${result.signal}` : ""}): ${result.stderr?.slice(-2000)}`);
  }
  return JSON.parse(readFileSync(out, "utf8"));
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
    const sizeBefore = diskUsageMiB(path.join(runtimeDir, "node_modules"));
    const before = loadInstalledPackages("before the prune");
    run(runtimeDir, process.execPath, ["scripts/prune-dev-optional.mjs"]);
    const sizeAfter = diskUsageMiB(path.join(runtimeDir, "node_modules"));
    console.log(`node_modules: ${sizeBefore} MiB before the prune, ${sizeAfter} MiB after`);
    for (const entry of ["next.config.mjs", "prisma", "dist", ".next"]) {
      cpSync(path.join(buildDir, entry), path.join(runtimeDir, entry), { recursive: true });
    }

    // Nothing the lockfile marks dev-only; of the "devOptional" packages (dev ones
    // that production ones name as optional peers, or need only optionally), the
    // ones the prune is for are gone.
    const lock = JSON.parse(readFileSync(path.join(runtimeDir, "package-lock.json"), "utf8"));
    const devOnly = Object.entries(lock.packages).filter(([key, entry]) => key && entry.dev === true);
    const present = devOnly.filter(([key]) => existsSync(path.join(runtimeDir, key)));
    if (present.length > 0) throw new Error(`dev packages in the runtime: ${present.map(([key]) => key).join(", ")}`);
    console.log(`none of the ${devOnly.length} dev packages is installed`);
    const pruned = ["prisma", "@prisma/studio-core", "@playwright/test", "playwright", "playwright-core"];
    const notPruned = pruned.filter((name) => lock.packages[`node_modules/${name}`]?.devOptional && existsSync(path.join(runtimeDir, "node_modules", name)));
    if (notPruned.length > 0) throw new Error(`dev-optional packages the prune should have removed: ${notPruned.join(", ")}`);
    const devOptionalLeft = Object.entries(lock.packages).filter(([key, entry]) => key && entry.devOptional === true && existsSync(path.join(runtimeDir, key)));
    console.log(`dev-optional packages left (a remaining package needs them): ${devOptionalLeft.map(([key]) => key.replace(/^node_modules\//, "")).join(", ") || "none"}`);

    // Every installed package that loaded before the prune loads after it.
    const after = loadInstalledPackages("after the prune");
    // The production dependencies (package.json) and sharp must still be there; any
    // package still there must load as it did (a package that failed to load
    // before the prune too, for its own reasons, is listed, not failed).
    const required = ["sharp", ...Object.keys(JSON.parse(readFileSync(path.join(runtimeDir, "package.json"), "utf8")).dependencies ?? {})];
    const broken = [
      ...required.filter((name) => before[name] !== undefined && after[name] === undefined),
      ...Object.keys(after).filter((name) => before[name] !== after[name]),
    ];
    if (broken.length > 0) {
      throw new Error(`the prune broke packages production has: ${broken.map((name) => `${name} (before: ${before[name]}; after: ${after[name] ?? "removed"})`).join("; ")}`);
    }
    const names = (filter) => Object.keys(after).filter((name) => filter(after[name]));
    const loaded = names((result) => result === "ok");
    const noEntry = names((result) => result === "no entry" || result.startsWith("not JavaScript"));
    const failing = names((result) => result !== "ok" && result !== "no entry" && !result.startsWith("not JavaScript"));
    console.log(`loaded ${loaded.length} installed packages after the prune (as before it): ${loaded.join(", ")}`);
    console.log(`nothing to load (${noEntry.length}): ${noEntry.map((name) => `${name} (${after[name]})`).join(", ")}`);
    if (failing.length > 0) console.log(`failing to load with and without the prune (not its doing): ${failing.map((name) => `${name} (${after[name]})`).join("; ")}`);
    console.log(`removed by the prune (${Object.keys(before).length - Object.keys(after).length}): ${Object.keys(before).filter((name) => after[name] === undefined).join(", ")}`);
    if (after.sharp !== undefined) console.log(`sharp: ${after.sharp}`);
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
