// `npm test`: the whole suite. Type-check and lint, unit and integration tests (Vitest: against the
// PostgreSQL in DATABASE_URL and Redis in REDIS_URL when set, embedded PGlite
// otherwise), then the end-to-end tests in Chromium (Playwright). Playwright
// cannot download browsers here, so Debian's chromium is used; on a machine
// without it, it is installed with apt when we are root, or we say what to do.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

function run(command, args, extraEnv = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, ...extraEnv } });
  return result.status ?? 1;
}

function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(Boolean);
  return candidates.find((path) => existsSync(path));
}

function ensureChromium() {
  const found = findChromium();
  if (found) return found;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (isRoot && existsSync("/usr/bin/apt-get")) {
    console.log("Chromium is missing: installing Debian's chromium package for the end-to-end tests.");
    run("apt-get", ["update", "-qq"]);
    run("apt-get", ["install", "-y", "-qq", "chromium"], { DEBIAN_FRONTEND: "noninteractive" });
  }
  const installed = findChromium();
  if (!installed) {
    console.error("The end-to-end tests need Chromium: `sudo apt-get install chromium`, or set CHROMIUM_PATH.");
    process.exit(1);
  }
  return installed;
}

const steps = [
  ["generate the Prisma client", () => run("node", ["scripts/prisma-generate.mjs"])],
  ["type-check", () => run("npx", ["tsc", "--noEmit"])],
  ["lint", () => run("npx", ["eslint", "."])],
  ["unit and integration tests", () => run("npx", ["vitest", "run"])],
  ["end-to-end tests", () => run("npx", ["playwright", "test"], { CHROMIUM_PATH: ensureChromium() })],
];

for (const [name, step] of steps) {
  console.log(`\n▶ ${name}`);
  const status = step();
  if (status !== 0) {
    console.error(`\n✖ ${name} failed (exit ${status})`);
    process.exit(status);
  }
}
console.log("\n✔ all tests passed");
