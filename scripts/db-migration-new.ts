// `npm run db:migration:new -- <name>`: writes prisma/migrations/<timestamp>_<name>/
// with the SQL that takes a database built from the existing migrations to
// prisma/schema.prisma (what `prisma migrate dev --create-only` does, without the
// native engine). Needs a PostgreSQL server for the temporary shadow database:
// DATABASE_URL, or the local one at postgresql://postgres@127.0.0.1:5432/postgres.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { diffMigrationsToSchema, MIGRATIONS_DIR } from "~/server/db/migrations";

const name = (process.argv[2] ?? "").toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "");
if (!name) {
  console.error("Usage: npm run db:migration:new -- <name>");
  process.exit(1);
}
const connectionString = process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/postgres";
const sql = await diffMigrationsToSchema({ connectionString });
if (!sql || /^-- This is an empty migration\.?$/.test(sql)) {
  console.log("The migrations already match prisma/schema.prisma; nothing to write.");
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const dir = path.join(MIGRATIONS_DIR, `${stamp}_${name}`);
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, "migration.sql"), `${sql}\n`);
console.log(`Wrote ${path.relative(process.cwd(), dir)}/migration.sql — review it, then commit it.`);
process.exit(0);
