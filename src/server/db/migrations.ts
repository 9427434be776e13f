import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import type { MigrationList, SchemaEngine } from "@prisma/schema-engine-wasm";
import type * as SchemaEngineBindings from "@prisma/schema-engine-wasm/schema_engine_bg";
import pg from "pg";
import { withDatabase } from "./connection-string";

// Migrations are applied by Prisma's schema engine compiled to Wasm, through the
// same pg driver adapter the app uses: no native binary is downloaded, and the
// standard `_prisma_migrations` table is written, so `prisma migrate deploy` on a
// machine that has the native engine accepts the same folder.

export const MIGRATIONS_DIR = path.resolve(process.cwd(), "prisma/migrations");
export const SCHEMA_PATH = path.resolve(process.cwd(), "prisma/schema.prisma");

type SchemaEngineGlue = typeof SchemaEngineBindings & {
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
};

let engineModule: Promise<SchemaEngineGlue> | undefined;

/**
 * The package's main module imports its .wasm as an ES module, which Node 20 only
 * allows behind --experimental-wasm-modules; wiring the JS glue to the instance by
 * hand works everywhere.
 */
function loadEngineModule(): Promise<SchemaEngineGlue> {
  engineModule ??= (async () => {
    const require = createRequire(import.meta.url);
    const gluePath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const glue = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as SchemaEngineGlue;
    const bytes = await readFile(path.join(path.dirname(gluePath), "schema_engine_bg.wasm"));
    const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": glue as never });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return engineModule;
}

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

/**
 * Catalog queries of the engine return PostgreSQL's internal `"char"` type, which
 * @prisma/adapter-pg 7.10 cannot map ("Column type 'char' could not be
 * deserialized"); its values are plain one-letter text, so report them as text.
 */
class CatalogFriendlyPool extends pg.Pool {
  // pg's overloads make a typed override impractical; the arguments pass through untouched.
  override query(...args: unknown[]): never {
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) {
      return result.then((res: pg.QueryResult) => {
        for (const field of res?.fields ?? []) if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
        return res;
      }) as never;
    }
    return result as never;
  }
}

/**
 * The adapter factory handed to the engine. Its shadow database (used only by
 * `diff` from a migrations folder) is created with a unique name and dropped after
 * its own pool is closed, which the stock adapter gets wrong in 7.10.
 */
function migrationAdapterFactory(connectionString: string) {
  const pool = new CatalogFriendlyPool({ connectionString, max: 2 });
  const base = new PrismaPg(pool);
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: base.provider,
    adapterName: base.adapterName,
    connect: () => base.connect(),
    async connectToShadowDb() {
      const name = `prisma_shadow_${process.pid}_${Date.now().toString(36)}`;
      const admin = new pg.Client({ connectionString });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${name}"`);
      } finally {
        await admin.end();
      }
      const shadowPool = new CatalogFriendlyPool({ connectionString: withDatabase(connectionString, name), max: 2 });
      const adapter = await new PrismaPg(shadowPool, { disposeExternalPool: true }).connect();
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose();
        const cleanup = new pg.Client({ connectionString });
        await cleanup.connect();
        try {
          await cleanup.query(`DROP DATABASE IF EXISTS "${name}"`);
        } finally {
          await cleanup.end();
        }
      };
      return adapter;
    },
  };
  return {
    factory: bindMigrationAwareSqlAdapterFactory(factory),
    // The engine does not dispose its adapter; a pool left open would keep the
    // migration advisory lock and the event loop alive.
    close: () => pool.end().catch(() => undefined),
  };
}

export async function readMigrationsList(migrationsDir = MIGRATIONS_DIR): Promise<MigrationList> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const lockfilePath = path.join(migrationsDir, "migration_lock.toml");
  const lockfileContent = await readFile(lockfilePath, "utf8").catch(() => null);
  return {
    baseDir: migrationsDir,
    lockfile: { path: lockfilePath, content: lockfileContent },
    shadowDbInitScript: "",
    migrationDirectories: await Promise.all(
      names.map(async (name) => ({
        path: path.join(migrationsDir, name),
        migrationFile: {
          path: "migration.sql",
          content: await readFile(path.join(migrationsDir, name, "migration.sql"), "utf8")
            .then((value) => ({ tag: "ok" as const, value }))
            .catch((error: Error) => ({ tag: "error" as const, value: error.message })),
        },
      })),
    ),
  };
}

async function readSchemaFiles(schemaPath: string) {
  return [{ path: schemaPath, content: await readFile(schemaPath, "utf8") }];
}

async function withEngine<T>(connectionString: string, schemaPath: string, run: (engine: SchemaEngine) => Promise<T>) {
  const glue = await loadEngineModule();
  const files = await readSchemaFiles(schemaPath);
  const engineLog: string[] = [];
  const adapter = migrationAdapterFactory(connectionString);
  let engine: SchemaEngine | undefined;
  try {
    engine = await glue.SchemaEngine.new(
      { datamodels: files.map((file) => [file.path, file.content] as [string, string]) },
      (line: string) => engineLog.push(line),
      adapter.factory,
    );
    return await run(engine);
  } catch (error) {
    const detail = engineLog.length > 0 ? `\n${engineLog.slice(-5).join("\n")}` : "";
    throw new Error(`Schema engine failed: ${describeEngineError(error)}${detail}`, { cause: error });
  } finally {
    engine?.free();
    await adapter.close();
  }
}

function describeEngineError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error && "message" in error) return String(error.message);
  return JSON.stringify(error);
}

const NO_FILTERS = { externalTables: [], externalEnums: [] };

/**
 * Whether the database already records exactly the folder's migrations as
 * applied, with the same checksums, and none failed or under way: then the engine
 * would apply nothing. Loading and instantiating it (5 MB of Wasm) cost every
 * restart about 0.2 s, so this one query spares it; any doubt (no table yet, another
 * instance migrating, an edited or unknown migration, an error) goes to the
 * engine, which decides and reports as before. Names are compared as the engine
 * records them: the migration directory's path.
 */
async function nothingToApply(connectionString: string, migrationsList: MigrationList): Promise<boolean> {
  const expected = new Map<string, string>();
  for (const directory of migrationsList.migrationDirectories) {
    const file = directory.migrationFile.content;
    if (file.tag !== "ok") return false;
    expected.set(directory.path, createHash("sha256").update(file.value).digest("hex"));
  }
  const client = new pg.Client({ connectionString });
  try {
    await client.connect();
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished: boolean }>(
      "SELECT migration_name, checksum, finished_at IS NOT NULL AS finished FROM _prisma_migrations WHERE rolled_back_at IS NULL",
    );
    return (
      rows.length === expected.size &&
      rows.every((row) => row.finished && expected.get(row.migration_name) === row.checksum)
    );
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Applies every migration not yet applied; returns the names applied now. */
export async function applyMigrations(options: {
  connectionString: string;
  migrationsDir?: string;
  schemaPath?: string;
}): Promise<string[]> {
  const migrationsList = await readMigrationsList(options.migrationsDir);
  if (await nothingToApply(options.connectionString, migrationsList)) return [];
  return withEngine(options.connectionString, options.schemaPath ?? SCHEMA_PATH, async (engine) => {
    const output = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
    return output.appliedMigrationNames;
  });
}

/**
 * The SQL that would bring a database built from the migrations folder to the
 * schema; empty means no drift. Needs a PostgreSQL server on which it may create
 * and drop a temporary shadow database.
 */
export async function diffMigrationsToSchema(options: {
  connectionString: string;
  migrationsDir?: string;
  schemaPath?: string;
}): Promise<string> {
  const schemaPath = options.schemaPath ?? SCHEMA_PATH;
  const migrationsList = await readMigrationsList(options.migrationsDir);
  const files = await readSchemaFiles(schemaPath);
  return withEngine(options.connectionString, schemaPath, async (engine) => {
    const result = await engine.diff({
      from: { tag: "migrations", ...migrationsList },
      to: { tag: "schemaDatamodel", files },
      script: true,
      exitCode: null,
      filters: NO_FILTERS,
    });
    return withoutExtensionStatements(result.stdout ?? "");
  });
}

/**
 * The engine (7.10) does not see the extensions of its shadow database when it
 * diffs from a migrations folder, so it asks for every extension of the schema
 * again, even one the migrations create. Those statements are dropped here; a
 * schema extension that no migration creates is caught by the migrations test,
 * which compares the extensions of a migrated database with a schema-built one.
 */
function withoutExtensionStatements(sql: string): string {
  return sql
    .replace(/-- CreateExtension\nCREATE EXTENSION IF NOT EXISTS "[^"]+"( WITH SCHEMA "[^"]+")?;\n*/g, "")
    .trim();
}

/** The SQL that creates the whole schema on an empty database (the connection is only opened, not changed). */
export async function diffEmptyToSchema(options: { connectionString: string; schemaPath?: string }): Promise<string> {
  const schemaPath = options.schemaPath ?? SCHEMA_PATH;
  const files = await readSchemaFiles(schemaPath);
  return withEngine(options.connectionString, schemaPath, async (engine) => {
    const result = await engine.diff({
      from: { tag: "empty" },
      to: { tag: "schemaDatamodel", files },
      script: true,
      exitCode: null,
      filters: NO_FILTERS,
    });
    return (result.stdout ?? "").trim();
  });
}
