import nextEnv from "@next/env";
import { startAppServer } from "~/server/http/app-server";
import { env, EnvError } from "~/server/env";
import { logger } from "~/server/logger";

// The one process of the app: see src/server/http/app-server.ts for what it serves.

// Offline machines must not wait on Next's telemetry.
process.env.NEXT_TELEMETRY_DISABLED ??= "1";

async function main() {
  // .env, .env.local, .env.<mode> — the files Next.js itself reads, loaded the same way.
  nextEnv.loadEnvConfig(process.cwd(), process.env.NODE_ENV !== "production");
  let config;
  try {
    config = env();
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  logger.level = config.LOG_LEVEL;
  const server = await startAppServer({ env: config, next: true, dev: config.NODE_ENV !== "production" });

  let firstSignalAt: number | undefined;
  const shutdown = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== undefined) {
      // Ctrl-C reaches us from the terminal and again through tsx or npm within
      // milliseconds; only a deliberate second press cuts the shutdown short.
      if (Date.now() - firstSignalAt < 1000) return;
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    firstSignalAt = Date.now();
    logger.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      logger.error("graceful shutdown timed out; exiting");
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_SECONDS * 1000);
    deadline.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, "server failed to start");
  process.exit(1);
});
