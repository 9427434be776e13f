#!/usr/bin/env node
// Removes from a production install (`npm install --omit=dev`) the packages the
// lock file marks "devOptional": dev dependencies that production packages also
// name as optional peers (the Prisma CLI and its studio for @prisma/client,
// @playwright/test for next). npm installs them even with --omit=dev; nothing
// in production needs them (the peers are optional), and they are a third of
// node_modules. The Dockerfile's runtime stage and scripts/docker-steps-check.mjs
// run it.
//
//   node scripts/prune-dev-optional.mjs [directory]   (default: the current one)
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

const dir = path.resolve(process.argv[2] ?? ".");
const lock = JSON.parse(readFileSync(path.join(dir, "package-lock.json"), "utf8"));
const removable = Object.entries(lock.packages)
  .filter(([key, entry]) => key.startsWith("node_modules/") && entry.devOptional === true)
  .map(([key]) => key);
let removed = 0;
for (const key of removable) {
  const target = path.join(dir, key);
  if (!existsSync(target)) continue;
  rmSync(target, { recursive: true, force: true });
  removed += 1;
}
// Their commands in node_modules/.bin now point nowhere.
const bin = path.join(dir, "node_modules/.bin");
if (existsSync(bin)) {
  for (const name of readdirSync(bin)) if (!existsSync(path.join(bin, name))) rmSync(path.join(bin, name), { force: true });
}
console.log(`removed ${removed} of ${removable.length} dev-optional packages from ${path.join(dir, "node_modules")}`);
