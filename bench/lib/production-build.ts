import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

// Scenarios that measure the production build (`npm run build`: Next.js pages and
// route handlers in .next/, the server in dist/server.js): coldstart and uploads.

export const BUILD_ID = ".next/BUILD_ID";
export const SERVER_ENTRY = "dist/server.js";

/** The newest modification time among the sources the build is made from. */
function newestSourceMtime(): number {
  let newest = 0;
  for (const root of ["src", "prisma", "server.ts", "next.config.mjs"]) {
    if (!existsSync(root)) continue;
    const files = statSync(root).isDirectory()
      ? readdirSync(root, { recursive: true, withFileTypes: true })
          .filter((entry) => entry.isFile() && !entry.parentPath.includes(`src${path.sep}generated`))
          .map((entry) => path.join(entry.parentPath, entry.name))
      : [root];
    for (const file of files) newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

/**
 * A build takes minutes on a small machine, so it is made only when asked
 * (`build`); without one the scenario stops and says how to make it, and with an
 * old one it warns that it measures the old code.
 */
export function ensureProductionBuild(scenario: string, options: { build: boolean; entries: string[]; why?: string }): void {
  if (options.build) {
    console.log(`${scenario}: building (npm run build) ...`);
    const result = spawnSync("npm", ["run", "build"], { stdio: "inherit" });
    if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status})`);
  }
  const missing = [BUILD_ID, ...options.entries].find((file) => !existsSync(file));
  if (missing) {
    console.error(
      `${scenario} measures the production build${options.why ? ` (${options.why})` : ""}, and ${missing} is missing: ` +
        "run `npm run build` first (a few minutes), or pass --build true to have this scenario run it.",
    );
    process.exit(2);
  }
  const builtAt = Math.min(statSync(BUILD_ID).mtimeMs, ...(existsSync(SERVER_ENTRY) ? [statSync(SERVER_ENTRY).mtimeMs] : []));
  if (options.entries.includes(SERVER_ENTRY) && newestSourceMtime() > builtAt) {
    console.warn(`${scenario}: WARNING the build is older than src/ (or server.ts, prisma/): it measures the old code; --build true rebuilds.`);
  }
}
