// Starts the production build the way a newcomer would (embedded database, demo
// users) in a throwaway data directory, for Playwright's webServer. Builds first
// unless E2E_SKIP_BUILD=1.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const port = process.env.PORT ?? process.env.E2E_PORT ?? "3100";
const appUrl = process.env.APP_URL ?? `http://localhost:${port}`;

/** The child being waited on (build or server), so a signal reaches it. */
let runningChild = null;
let stopRequested = false;

function forwardSignal(signal) {
  stopRequested = true;
  runningChild?.kill(signal);
}
process.on("SIGTERM", () => forwardSignal("SIGTERM"));
process.on("SIGINT", () => forwardSignal("SIGINT"));

/** Resolves with the exit code; a child ended by a signal reports 128 + its number. */
function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: "inherit", ...options });
    runningChild = child;
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      runningChild = null;
      resolve(code ?? 128 + (os.constants.signals[signal] ?? 0));
    });
  });
}

async function main() {
  if (process.env.E2E_SKIP_BUILD !== "1") {
    const buildCode = await run("npm", ["run", "build"], { env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
    if (buildCode !== 0 || stopRequested) return buildCode || 1;
  }

  const dataDir = await mkdtemp(path.join(os.tmpdir(), "chatline-e2e-"));
  const serverEnv = {
    ...process.env,
    NODE_ENV: "production",
    PORT: port,
    HOST: "127.0.0.1",
    // next-auth and the server's Origin check both compare against the origin the browser uses.
    APP_URL: appUrl,
    NEXTAUTH_URL: appUrl,
    DATA_DIR: dataDir,
    NEXT_TELEMETRY_DISABLED: "1",
    LOG_LEVEL: "warn",
    // Production mode creates demo users only when asked: the e2e signs in as one.
    SEED_DEMO_USERS: "true",
    // The long-conversation test posts 120 messages through the API in a few seconds (default limit: 60 a minute).
    MESSAGING_RATE_LIMIT_PER_MINUTE: "1000",
    // Off by default (an admin turns it on); the attachment tests need it.
    MESSAGING_ALLOW_FILE_ATTACHMENTS: "true",
    // Every browser of the run signs up from 127.0.0.1; the suite creates more accounts than one address may in an hour.
    SIGN_UPS_PER_ADDRESS_PER_HOUR: "500",
    // Long enough that a second download right after the first is refused on a slow
    // machine too, short enough for a retried admin export to wait it out (default: 60 s).
    EXPORT_INTERVAL_SECONDS: "20",
  };
  // A developer's shell may point at real services or change first-start behaviour;
  // the e2e run exercises the embedded default with its demo users.
  for (const name of [
    "DATABASE_URL",
    "REDIS_URL",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "GITHUB_ID",
    "GITHUB_SECRET",
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
  ]) {
    delete serverEnv[name];
  }

  try {
    if (stopRequested) return 0;
    return await run(process.execPath, ["dist/server.js"], { env: serverEnv });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
