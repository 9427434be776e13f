#!/usr/bin/env node
// Removes from a production install (`npm install --omit=dev`) the packages the
// lock file marks "devOptional" that no remaining package needs. "devOptional"
// means: needed by the dev tree, or only optionally by the production one. npm
// installs them even with --omit=dev; most are dev dependencies that production
// packages name as optional peers (the Prisma CLI and its studio for
// @prisma/client, @playwright/test for next) with everything under them, a third
// of node_modules, and nothing in production needs them. But some are also
// dependencies of a production optional dependency: sharp (optional for next)
// requires detect-libc and semver at load, which the dev tree needs too. So a
// devOptional package stays when a package that stays needs it:
//
// - "needs": its dependencies, optionalDependencies and non-optional
//   peerDependencies (optional peers are what this removes), each resolved by name
//   as Node does from the dependent's folder (its own node_modules, then each
//   parent's, up to the top one), among the lock file's installed packages;
// - "stays": every installed package that is not devOptional, the project's own
//   production and optional dependencies, and, to a fixed point, every devOptional
//   package something that stays needs (and the packages whose folder holds it:
//   removing them would remove it).
//
// The Dockerfile's runtime stage and scripts/docker-steps-check.mjs run it; the
// check then loads every installed package to prove nothing it needs went.
//
//   node scripts/prune-dev-optional.mjs [directory]   (default: the current one)
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

const dir = path.resolve(process.argv[2] ?? ".");
const lock = JSON.parse(readFileSync(path.join(dir, "package-lock.json"), "utf8"));
/** Lock keys ("node_modules/a/node_modules/b") of the packages on disk. */
const installed = new Set(
  Object.keys(lock.packages).filter((key) => key.startsWith("node_modules/") && existsSync(path.join(dir, key, "package.json"))),
);

/** Where `name` required from the package at `key` ("" = the project) is found, as Node resolves it. */
function resolveFrom(key, name) {
  // From node_modules/a/node_modules/@s/b: node_modules/a/node_modules/@s/b/node_modules/<name>,
  // node_modules/a/node_modules/<name>, node_modules/<name> (Node skips …/node_modules/node_modules).
  const parts = key ? key.split("/") : [];
  for (let end = parts.length; end >= 0; end -= 1) {
    if (end > 0 && parts[end - 1] === "node_modules") continue;
    const candidate = [...parts.slice(0, end), "node_modules", name].join("/");
    if (installed.has(candidate)) return candidate;
  }
  return undefined;
}

/** The names a package needs when it stays. */
function needs(entry) {
  const optionalPeers = entry.peerDependenciesMeta ?? {};
  const peers = Object.keys(entry.peerDependencies ?? {}).filter((name) => !optionalPeers[name]?.optional);
  return [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {}), ...peers];
}

/** The installed packages whose folders hold `key` (node_modules/a for node_modules/a/node_modules/b). */
function holders(key) {
  const found = [];
  const parts = key.split("/");
  for (let end = parts.length - 1; end > 0; end -= 1) {
    const candidate = parts.slice(0, end).join("/");
    if (installed.has(candidate)) found.push(candidate);
  }
  return found;
}

const kept = new Set();
const queue = [];
const keep = (key) => {
  if (kept.has(key)) return;
  kept.add(key);
  queue.push(key);
  for (const holder of holders(key)) keep(holder);
};
for (const key of installed) if (lock.packages[key].devOptional !== true) keep(key);
const root = lock.packages[""] ?? {};
for (const name of [...Object.keys(root.dependencies ?? {}), ...Object.keys(root.optionalDependencies ?? {})]) {
  const target = resolveFrom("", name);
  if (target) keep(target);
}
while (queue.length > 0) {
  const key = queue.pop();
  for (const name of needs(lock.packages[key])) {
    const target = resolveFrom(key, name);
    if (target) keep(target);
  }
}

const devOptional = [...installed].filter((key) => lock.packages[key].devOptional === true);
const stay = devOptional.filter((key) => kept.has(key));
let removed = 0;
for (const key of devOptional) {
  if (kept.has(key)) continue;
  const target = path.join(dir, key);
  // Already gone with a folder that held it.
  if (!existsSync(target)) continue;
  rmSync(target, { recursive: true, force: true });
  removed += 1;
}
// Their commands in node_modules/.bin now point nowhere.
const bin = path.join(dir, "node_modules/.bin");
if (existsSync(bin)) {
  for (const name of readdirSync(bin)) if (!existsSync(path.join(bin, name))) rmSync(path.join(bin, name), { force: true });
}
console.log(
  `removed ${devOptional.length - stay.length} of ${devOptional.length} installed dev-optional packages from ${path.join(dir, "node_modules")}` +
    ` (${removed} folders); kept ${stay.length} that remaining packages need${stay.length ? `: ${stay.map((key) => key.slice("node_modules/".length)).join(", ")}` : ""}`,
);
