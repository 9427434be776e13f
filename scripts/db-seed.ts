// `npm run db:seed`: base data (roles, permissions, settings) and the demo users.
// Refused against a production database.
import { DEMO_PASSWORD, DEMO_USERS } from "~/features/auth/demo-users";
import { createDatabase } from "~/server/db/client";
import { startEmbeddedPostgres } from "~/server/db/embedded";
import { applyMigrations } from "~/server/db/migrations";
import { demoUsersWanted, ensureBaseData, seedDemoUsers } from "~/server/db/seed";
import { env } from "~/server/env";

const config = { ...env(), SEED_DEMO_USERS: true };
if (!demoUsersWanted(config, !config.DATABASE_URL)) {
  console.error("Refusing to create demo users on a production database (NODE_ENV=production with DATABASE_URL).");
  process.exit(1);
}
const embedded = config.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: config.DATA_DIR });
const connectionString = config.DATABASE_URL ?? embedded!.connectionString;
const database = createDatabase(connectionString, { poolSize: 2 });
try {
  await applyMigrations({ connectionString });
  await ensureBaseData(database.prisma, config, { demo: true });
  const created = await seedDemoUsers(database.prisma);
  console.log(`Demo users ready (${created} created now). Password for all: ${DEMO_PASSWORD}`);
  for (const user of DEMO_USERS) console.log(`  ${user.email.padEnd(22)} ${user.name.padEnd(12)} ${user.roles.join(", ")}`);
} finally {
  await database.close();
  await embedded?.stop();
}
process.exit(0);
