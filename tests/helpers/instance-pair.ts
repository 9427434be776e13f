import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { encode } from "next-auth/jwt";
import { createDatabase, type Database } from "~/server/db/client";
import { createNodeTrpcClient, type NodeTrpcClient } from "~/trpc/node-client";
import { startInstanceProcess, type InstanceProcess } from "./instance-process";
import { createTestDatabase, type TestDatabase } from "./test-database";
import { TEST_APP_ORIGIN, TEST_AUTH_SECRET } from "./test-server";

// Two server processes on one PostgreSQL and one Redis, with no sticky sessions:
// what a scaled-out deployment is. Needs both services (CI has them); the embedded
// database cannot be shared between processes.

export const hasSharedServices = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

/** The environment of an instance of the shared-services tests. */
export function instanceEnv(databaseUrl: string, dataDir: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL!,
    NEXTAUTH_SECRET: TEST_AUTH_SECRET,
    APP_URL: TEST_APP_ORIGIN,
    DATA_DIR: dataDir,
    SEED_DEMO_USERS: "false",
    PRESENCE_OFFLINE_GRACE_MS: "300",
    RETENTION_INTERVAL_MS: "0",
    LOG_LEVEL: "warn",
    // Tests send as fast as they can; the shared send limit has a case of its own.
    MESSAGING_RATE_LIMIT_PER_MINUTE: "10000",
  };
}

/** The session cookie next-auth would set for `userId`. */
export async function cookieFor(userId: string): Promise<string> {
  return `next-auth.session-token=${await encode({ token: { sub: userId }, secret: TEST_AUTH_SECRET, maxAge: 3600 })}`;
}

/** A new user of `db` with a client of the instance(s) `baseUrl` names, signed in by cookie. */
export async function signedInUser(db: Database, name: string, baseUrl: string | (() => string), roleNames: string[] = ["User"]) {
  const roles = await db.prisma.role.findMany({ where: { name: { in: roleNames } }, select: { id: true } });
  const user = await db.prisma.user.create({
    data: {
      name,
      email: `${name.toLowerCase().replace(/\s+/g, "-")}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@multi.example`,
      roles: { create: roles.map((r) => ({ roleId: r.id })) },
    },
  });
  const cookie = await cookieFor(user.id);
  // Reconnect quickly: the tests wait for it.
  const client = createNodeTrpcClient({ baseUrl, cookie, origin: TEST_APP_ORIGIN, retryDelayMs: () => 200 });
  return { user, client, api: client.api, cookie };
}

export interface InstancePair {
  a: InstanceProcess;
  b: InstanceProcess;
  database: TestDatabase;
  /** A small pool of the tests' own on the instances' database. */
  db: Database;
  /** Closed with the pair. */
  clients: NodeTrpcClient[];
  signedIn(name: string, baseUrl: string | (() => string), roles?: string[]): ReturnType<typeof signedInUser>;
  close(): Promise<void>;
}

/** Two fresh instances on a database of their own. */
export async function startInstancePair(label: string): Promise<InstancePair> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), `chatline-${label}-`));
  const env = instanceEnv(database.connectionString, dataDir);
  const [a, b] = await Promise.all([startInstanceProcess(env), startInstanceProcess(env)]);
  const db = createDatabase(database.connectionString, { poolSize: 2 });
  const clients: NodeTrpcClient[] = [];
  return {
    a,
    b,
    database,
    db,
    clients,
    async signedIn(name, baseUrl, roles) {
      const person = await signedInUser(db, name, baseUrl, roles);
      clients.push(person.client);
      return person;
    },
    async close() {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      await Promise.all([a.stop(), b.stop()]);
      await db.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh pair for one test; everything is released after it. */
export async function withInstancePair(label: string, test: (pair: InstancePair) => Promise<void>): Promise<void> {
  const pair = await startInstancePair(label);
  try {
    await test(pair);
  } finally {
    await pair.close();
  }
}
