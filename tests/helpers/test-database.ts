import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { withDatabase } from "~/server/db/connection-string";
import { startEmbeddedPostgres } from "~/server/db/embedded";
import { applyMigrations } from "~/server/db/migrations";

export interface TestDatabase {
  kind: "postgresql" | "pglite";
  connectionString: string;
  drop(): Promise<void>;
}

/**
 * A database of this test file's own, with every migration applied: a copy of the
 * template on the real PostgreSQL of DATABASE_URL, or an in-memory PGlite.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  const template = inject("templateDatabase");
  if (!adminUrl || !template) {
    const embedded = await startEmbeddedPostgres();
    await applyMigrations({ connectionString: embedded.connectionString });
    return { kind: "pglite", connectionString: embedded.connectionString, drop: () => embedded.stop() };
  }
  const name = `chatline_test_${randomBytes(5).toString("hex")}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  // A copy would share the template's installation id, and with it the Redis
  // channels of every other test database: their event ids collide.
  await withAdmin(withDatabase(adminUrl, name), (db) => db.query("UPDATE event_counter SET installation_id = gen_random_uuid()"));
  return {
    kind: "postgresql",
    connectionString: withDatabase(adminUrl, name),
    drop: async () => {
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** An empty database (no migrations), for tests of the migrations themselves. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const embedded = await startEmbeddedPostgres();
    return { kind: "pglite", connectionString: embedded.connectionString, drop: () => embedded.stop() };
  }
  const name = `chatline_test_${randomBytes(5).toString("hex")}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE "${name}"`));
  return {
    kind: "postgresql",
    connectionString: withDatabase(adminUrl, name),
    drop: async () => {
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(adminUrl: string, run: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.end();
  }
}
