import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { PGlite } from "@electric-sql/pglite";

// The zero-setup database: PGlite (PostgreSQL compiled to Wasm) persisted under the
// data folder, served on a loopback port with the PostgreSQL wire protocol so the
// app, the Prisma adapter and the migration engine use it like any PostgreSQL.

export interface EmbeddedPostgres {
  connectionString: string;
  stop(): Promise<void>;
}

/** Sockets the pool may open; one PGlite runs queries one at a time anyway. */
const MAX_CONNECTIONS = 32;

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Two processes writing one PGlite folder would corrupt it, so the folder is
 * locked with the owner's pid; a lock left by a dead process is taken over.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = path.join(dataDir, "chatline.lock");
  const existing = await readFile(lockPath, "utf8").catch(() => undefined);
  const ownerPid = Number(existing);
  // This very process counts too: a second start in one process would also corrupt it.
  if (existing && isProcessAlive(ownerPid)) {
    throw new Error(
      `The embedded database in ${dataDir} is in use by process ${ownerPid}. Stop it, or set DATABASE_URL to share a real PostgreSQL between instances.`,
    );
  }
  await writeFile(lockPath, String(process.pid));
  return () => rm(lockPath, { force: true });
}

/**
 * Starts PGlite; with no dataDir the database lives in memory (tests).
 */
export async function startEmbeddedPostgres(options: { dataDir?: string } = {}): Promise<EmbeddedPostgres> {
  // Loaded here, not at the top: a server on DATABASE_URL never needs them, and
  // importing them costs its every start about 0.1 s.
  const [{ PGlite }, { PGLiteSocketServer }, { pg_trgm }, { btree_gin }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("@electric-sql/pglite-socket"),
    import("@electric-sql/pglite/contrib/pg_trgm"),
    import("@electric-sql/pglite/contrib/btree_gin"),
  ]);
  // The extensions the migrations create (search); PGlite loads only those handed to it.
  const extensions = { pg_trgm, btree_gin };
  let unlock = async () => {};
  let db: PGlite;
  if (options.dataDir) {
    const dir = path.resolve(options.dataDir);
    await mkdir(dir, { recursive: true });
    unlock = await lockDataDir(dir);
    db = await PGlite.create({ dataDir: path.join(dir, "pglite"), extensions });
  } else {
    db = await PGlite.create({ extensions });
  }
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: MAX_CONNECTIONS });
  await server.start();
  const [host, port] = server.getServerConn().split(":");
  return {
    connectionString: `postgresql://postgres@${host}:${port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
      await unlock();
    },
  };
}
