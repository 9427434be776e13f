import { defineConfig } from "prisma/config";

// Used by the Prisma CLI (generate, studio). The app and the migration runner read
// DATABASE_URL through src/server/env.ts and apply migrations with the Wasm engine
// (src/server/db/migrations.ts), so the CLI never needs the native schema engine.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/postgres" },
});
