import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "~/generated/prisma/client";

// One pool and one Prisma client per process. server.ts and the Next.js bundle
// (next-auth's route) load this module separately, so the instance lives on
// globalThis: both then share the pool instead of opening two.

export type Db = PrismaClient;

export interface Database {
  prisma: PrismaClient;
  pool: pg.Pool;
  connectionString: string;
  close(): Promise<void>;
}

/** Where each client made by createDatabase connects (for the rare job that needs a session of its own). */
const connectionStrings = new WeakMap<PrismaClient, string>();
/** The pool under each client made by createDatabase, and whether naming statements works on it. */
const pools = new WeakMap<PrismaClient, { pool: pg.Pool; namedStatements: boolean }>();

/** "already exists" / "does not exist": the server's sessions are not the pool's connections. */
const NAMED_STATEMENT_CONFUSED = new Set(["42P05", "26000"]);

/**
 * Runs a hot statement straight on the pool a Prisma client runs on (its
 * connections, one on PGlite) as a named prepared statement: each connection
 * parses and plans it once instead of at every call (the batched send). Where
 * sessions are not connections (PGlite's socket server shares one session among
 * them; PgBouncer in transaction mode moves them), names collide or vanish: the
 * first such error switches that pool to unnamed statements for good.
 */
export async function queryPrepared<T extends pg.QueryResultRow>(
  prisma: PrismaClient,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const entry = pools.get(prisma);
  if (!entry) throw new Error("This Prisma client was not made by createDatabase: its pool is unknown.");
  if (entry.namedStatements) {
    try {
      return (await entry.pool.query<T>({ name, text, values })).rows;
    } catch (error) {
      if (!NAMED_STATEMENT_CONFUSED.has((error as { code?: string }).code ?? "")) throw error;
      entry.namedStatements = false;
    }
  }
  return (await entry.pool.query<T>({ text, values })).rows;
}

/**
 * The connection string of a client made by createDatabase: a job that must hold
 * a lock across many pool transactions (retention) opens its own connection with
 * it, so it takes nothing from the pool (one connection on PGlite).
 */
export function connectionStringOf(prisma: PrismaClient): string | undefined {
  return connectionStrings.get(prisma);
}

export function createDatabase(connectionString: string, options: { poolSize?: number } = {}): Database {
  const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10 });
  // A dropped idle connection must not crash the process; the pool reconnects.
  pool.on("error", () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  connectionStrings.set(prisma, connectionString);
  pools.set(prisma, { pool, namedStatements: true });
  let closed: Promise<void> | undefined;
  return {
    prisma,
    pool,
    connectionString,
    close() {
      closed ??= (async () => {
        await prisma.$disconnect();
        await pool.end();
      })();
      return closed;
    },
  };
}

const globalForDb = globalThis as unknown as { __chatlineDatabase?: Database };

/** Installs the process-wide database (server.ts does it once it knows the URL). */
export function setDatabase(database: Database | undefined): void {
  globalForDb.__chatlineDatabase = database;
}

/** The process-wide database; created from DATABASE_URL on first use if nothing was installed. */
export function getDatabase(): Database {
  if (!globalForDb.__chatlineDatabase) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("The database is not started: server.ts installs it (setDatabase) before serving.");
    globalForDb.__chatlineDatabase = createDatabase(url, { poolSize: Number(process.env.DATABASE_POOL_SIZE) || 10 });
  }
  return globalForDb.__chatlineDatabase;
}

export function db(): PrismaClient {
  return getDatabase().prisma;
}
