import { withDatabase } from "~/server/db/connection-string";
import { admin, adminUrl, createBenchDatabase, type BenchDatabase } from "./database";

// A scenario whose seed takes minutes can keep its database between runs
// (`--keep <name>`): it is created once, never dropped by the run, and carries a
// note of what was seeded into it (the database's comment) so a later run reuses
// the seed only if it asked for the same one. Drop it by hand when done:
// DROP DATABASE "chatline_bench_<label>_keep_<name>".

export interface ScenarioDatabase extends BenchDatabase {
  name: string;
  kept: boolean;
  /** The seed note left by an earlier run, or null. */
  seedNote(): Promise<string | null>;
  setSeedNote(note: string): Promise<void>;
}


function noteFunctions(name: string) {
  return {
    seedNote: () =>
      admin(async (client) => {
        const { rows } = await client.query<{ note: string | null }>(
          `SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1`,
          [name],
        );
        return rows[0]?.note ?? null;
      }),
    setSeedNote: (note: string) =>
      admin((client) => client.query(`COMMENT ON DATABASE "${name}" IS ${client.escapeLiteral(note)}`)).then(() => undefined),
  };
}

/** A fresh database dropped at the end, or with `keep` the named one, created if missing and left in place. */
export async function openScenarioDatabase(label: string, keep: string | undefined): Promise<ScenarioDatabase> {
  if (keep === undefined) {
    const database = await createBenchDatabase(label);
    const name = new URL(database.url).pathname.slice(1);
    return { ...database, name, kept: false, ...noteFunctions(name) };
  }
  if (!/^[a-z0-9_]+$/.test(keep)) throw new Error("--keep takes a name of lower-case letters, digits and _");
  const name = `chatline_bench_${label}_keep_${keep}`;
  await admin(async (client) => {
    const { rowCount } = await client.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  });
  return { url: withDatabase(adminUrl(), name), name, kept: true, drop: async () => undefined, ...noteFunctions(name) };
}

/**
 * Runs `seed` unless the database already holds the seed `note` describes (a kept
 * database from an earlier run with the same options). A kept database holding
 * another seed, or rows from a seed that failed half-way (`hasRows`), is refused:
 * seeding again would collide.
 */
export async function seedOnce(
  database: ScenarioDatabase,
  note: string,
  options: { hasRows: () => Promise<boolean>; seed: () => Promise<void> },
): Promise<void> {
  const existing = await database.seedNote();
  if (existing === note) {
    console.log(`\nReusing the seed of ${database.name}.`);
    return;
  }
  if (existing !== null) throw new Error(`${database.name} holds another seed (${existing}); drop it or pick another --keep name`);
  if (database.kept && (await options.hasRows())) {
    throw new Error(`${database.name} holds an unfinished seed; drop it (DROP DATABASE "${database.name}") and run again`);
  }
  await options.seed();
  if (database.kept) await database.setSeedNote(note);
}
