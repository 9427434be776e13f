import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, diffEmptyToSchema, diffMigrationsToSchema } from "~/server/db/migrations";
import { createEmptyDatabase, type TestDatabase } from "../helpers/test-database";

// The migrations folder must build exactly what prisma/schema.prisma describes.
// Two databases are compared catalogue to catalogue: one built by applying the
// migrations, one built from the schema alone. This works on PGlite as well as on
// PostgreSQL, and needs no native Prisma engine.

async function catalogSnapshot(connectionString: string) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const query = async (sql: string) => (await client.query(sql)).rows;
    return {
      columns: await query(`
        SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, is_generated, generation_expression,
               character_maximum_length, numeric_precision, datetime_precision
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
        ORDER BY table_name, column_name`),
      indexes: await query(`
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'
        ORDER BY tablename, indexname`),
      // Not-null constraints (contype 'n', PostgreSQL 18 / PGlite) repeat is_nullable above.
      constraints: await query(`
        SELECT rel.relname AS table_name, con.conname, con.contype::text, pg_get_constraintdef(con.oid) AS definition
        FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
        JOIN pg_namespace ns ON ns.oid = con.connamespace
        WHERE ns.nspname = 'public' AND con.contype IN ('p', 'f', 'u', 'c') AND rel.relname <> '_prisma_migrations'
        ORDER BY rel.relname, con.conname`),
      extensions: await query(`SELECT extname, extversion FROM pg_extension ORDER BY extname`),
      enums: await query(`
        SELECT t.typname, e.enumlabel, e.enumsortorder FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
        JOIN pg_namespace ns ON ns.oid = t.typnamespace WHERE ns.nspname = 'public'
        ORDER BY t.typname, e.enumsortorder`),
    };
  } finally {
    await client.end();
  }
}

/**
 * Prisma cannot describe a generated column: the schema gives the search column's
 * expression as a `dbgenerated` default, which PostgreSQL refuses (a default may
 * not read other columns). The migration declares it GENERATED ... STORED by hand;
 * the schema's SQL gets the same edit here so that both are compared in full.
 */
function asGeneratedColumns(sql: string): string {
  const edited = sql.replace(/("search_vector" tsvector) DEFAULT\s*(\n[\s\S]*?\nEND),/, "$1 GENERATED ALWAYS AS ($2) STORED,");
  if (edited === sql) throw new Error("the schema's SQL no longer declares search_vector as expected");
  return edited;
}

describe("migrations", () => {
  let fromMigrations: TestDatabase;
  let fromSchema: TestDatabase;

  beforeAll(async () => {
    [fromMigrations, fromSchema] = await Promise.all([createEmptyDatabase(), createEmptyDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([fromMigrations?.drop(), fromSchema?.drop()]);
  });

  it("apply on an empty database, then again as a no-op", async () => {
    const first = await applyMigrations({ connectionString: fromMigrations.connectionString });
    expect(first.length).toBeGreaterThan(0);
    expect(await applyMigrations({ connectionString: fromMigrations.connectionString })).toEqual([]);

    const client = new pg.Client({ connectionString: fromMigrations.connectionString });
    await client.connect();
    const { rows } = await client.query(
      "SELECT migration_name, finished_at IS NOT NULL AS finished, length(checksum) AS checksum_length FROM _prisma_migrations ORDER BY migration_name",
    );
    await client.end();
    expect(rows).toHaveLength(first.length);
    // The standard table Prisma's own `migrate deploy` reads: checksums are sha256 hex.
    for (const row of rows) expect(row).toMatchObject({ finished: true, checksum_length: 64 });
  });

  it("leave the schema engine out of a start with nothing to apply, but not when a record is in doubt", async () => {
    // All applied and finished: answered by one query, no engine.
    expect(await applyMigrations({ connectionString: fromMigrations.connectionString })).toEqual([]);
    const client = new pg.Client({ connectionString: fromMigrations.connectionString });
    await client.connect();
    try {
      // A migration that failed half-way: the engine must see it and refuse to go on.
      const { rows } = await client.query<{ id: string }>(
        "UPDATE _prisma_migrations SET finished_at = NULL WHERE id = (SELECT id FROM _prisma_migrations ORDER BY started_at DESC LIMIT 1) RETURNING id",
      );
      await expect(applyMigrations({ connectionString: fromMigrations.connectionString })).rejects.toThrow();
      await client.query("UPDATE _prisma_migrations SET finished_at = now() WHERE id = $1", [rows[0]!.id]);
      expect(await applyMigrations({ connectionString: fromMigrations.connectionString })).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it("build exactly the schema: no drift", async () => {
    const schemaSql = await diffEmptyToSchema({ connectionString: fromSchema.connectionString });
    const client = new pg.Client({ connectionString: fromSchema.connectionString });
    await client.connect();
    await client.query(asGeneratedColumns(schemaSql));
    await client.end();

    const [migrated, described] = await Promise.all([
      catalogSnapshot(fromMigrations.connectionString),
      catalogSnapshot(fromSchema.connectionString),
    ]);
    expect(migrated.columns.length).toBeGreaterThan(50);
    expect(migrated).toEqual(described);
    expect(migrated.extensions.map((row) => row.extname)).toEqual(expect.arrayContaining(["btree_gin", "pg_trgm"]));
    expect(migrated.columns.find((row) => row.column_name === "search_vector")).toMatchObject({ is_generated: "ALWAYS" });
  });

  it.runIf(Boolean(process.env.DATABASE_URL))(
    "leave nothing for Prisma's own diff to add (PostgreSQL, shadow database)",
    async () => {
      const sql = await diffMigrationsToSchema({ connectionString: fromMigrations.connectionString });
      expect(sql).toMatch(/^(-- This is an empty migration\.)?$/);
    },
  );
});
