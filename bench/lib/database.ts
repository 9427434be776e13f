import pg from "pg";
import { withDatabase } from "~/server/db/connection-string";

// Each run gets an empty database of its own on the PostgreSQL of DATABASE_URL
// (the server applies the migrations at start), dropped at the end unless kept.

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("The benchmarks run on PostgreSQL: set DATABASE_URL (for example postgresql://postgres@127.0.0.1:5432/postgres).");
  return url;
}

/** Runs `run` on a connection to the PostgreSQL of DATABASE_URL (creating and dropping databases). */
export async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const name = `chatline_bench_${label}_${Date.now().toString(36)}`;
  await admin((client) => client.query(`CREATE DATABASE "${name}"`));
  return {
    url: withDatabase(adminUrl(), name),
    drop: () => admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** A few numbers about the machine, for the tables. */
export async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>("SHOW server_version");
    return rows[0]?.server_version ?? "?";
  } finally {
    await client.end();
  }
}
