// `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the
// embedded database under DATA_DIR when it is unset.
import { startEmbeddedPostgres } from "~/server/db/embedded";
import { applyMigrations } from "~/server/db/migrations";
import { env } from "~/server/env";

const config = env();
const embedded = config.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: config.DATA_DIR });
try {
  const applied = await applyMigrations({ connectionString: config.DATABASE_URL ?? embedded!.connectionString });
  console.log(applied.length === 0 ? "No pending migrations." : `Applied:\n${applied.map((dir) => `  ${dir}`).join("\n")}`);
} finally {
  await embedded?.stop();
}
// The Wasm engine leaves a lock-timeout timer behind; nothing else is pending.
process.exit(0);
