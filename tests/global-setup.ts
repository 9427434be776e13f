import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { withDatabase } from "~/server/db/connection-string";
import { applyMigrations } from "~/server/db/migrations";

// With DATABASE_URL (a real PostgreSQL), the migrations are applied once to a
// template database; every test file then copies it (CREATE DATABASE ... TEMPLATE),
// which takes milliseconds. Without it, each file starts its own in-memory PGlite.

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string | null;
  }
}

export default async function setup(project: TestProject) {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    project.provide("templateDatabase", null);
    return;
  }
  const name = `chatline_tpl_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  try {
    await applyMigrations({ connectionString: withDatabase(adminUrl, name) });
  } catch (error) {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
    throw error;
  }
  project.provide("templateDatabase", name);
  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  };
}
