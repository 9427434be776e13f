import type { Agent as HttpsAgent } from "node:https";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { encode } from "next-auth/jwt";
import { ROLES, type RoleName } from "~/features/permissions/catalog";
import { startAppServer, type AppServer } from "~/server/http/app-server";
import { parseEnv } from "~/server/env";
import { createNodeTrpcClient, type NodeTrpcClient } from "~/trpc/node-client";
import { createTestDatabase, type TestDatabase } from "./test-database";

export const TEST_AUTH_SECRET = "test-secret-that-is-long-enough-for-next-auth-0123456789";
export const TEST_APP_ORIGIN = "http://app.test";

export interface TestServer {
  server: AppServer;
  database: TestDatabase;
  baseUrl: string;
  createUser(input?: { name?: string; email?: string; roles?: RoleName[] }): Promise<{ id: string; email: string; name: string }>;
  sessionCookie(userId: string): Promise<string>;
  /** A client of its own address (X-Forwarded-For through the one trusted proxy hop), so per-address limits never collide. */
  client(options?: { userId?: string; origin?: string; address?: string }): Promise<NodeTrpcClient>;
  close(): Promise<void>;
}

let userCounter = 0;

/** An address from the IPv6 documentation range, unique enough per test run. */
export function randomTestAddress(): string {
  const group = () => Math.floor(Math.random() * 0x10000).toString(16);
  return `2001:db8:${group()}:${group()}::${group()}`;
}

/** An email no earlier run used, for limits kept in a shared Redis. */
export function uniqueEmail(label: string): string {
  return `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;
}

/**
 * The real server (tRPC over HTTP and WebSocket, health, no Next.js pages) on a
 * random port and this file's own database. Redis is used when REDIS_URL is set.
 */
export async function startTestServer(
  overrides: Record<string, string> = {},
  options: { pushAgent?: HttpsAgent } = {},
): Promise<TestServer> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), "chatline-test-"));
  const env = parseEnv({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    APP_URL: TEST_APP_ORIGIN,
    DATABASE_URL: database.connectionString,
    // PGlite serves all connections on one session: one pooled connection, as the app uses it.
    DATABASE_POOL_SIZE: database.kind === "pglite" ? "1" : "5",
    REDIS_URL: process.env.REDIS_URL,
    NEXTAUTH_SECRET: TEST_AUTH_SECRET,
    DATA_DIR: dataDir,
    SEED_DEMO_USERS: "false",
    // Tests play the proxy: each client says which address it comes from.
    TRUST_PROXY_HOPS: "1",
    PRESENCE_OFFLINE_GRACE_MS: "300",
    SOCKET_SESSION_CHECK_MS: "200",
    // Tests send hundreds of messages a minute; the send limit has its own tests (abuse-limits.test.ts).
    MESSAGING_RATE_LIMIT_PER_MINUTE: "10000",
    ...overrides,
  });
  const server = await startAppServer({ env, next: false, dev: false, pushAgent: options.pushAgent });
  const clients: NodeTrpcClient[] = [];

  const testServer: TestServer = {
    server,
    database,
    baseUrl: server.url,
    async createUser(input = {}) {
      // Taken before the first await: parallel calls must not share a number.
      const number = ++userCounter;
      const roles = await server.database.prisma.role.findMany({
        where: { name: { in: input.roles ?? [ROLES.user] } },
        select: { id: true },
      });
      return server.database.prisma.user.create({
        data: {
          name: input.name ?? `Test User ${number}`,
          email: input.email ?? `user${number}-${Date.now()}@test.example`,
          roles: { create: roles.map((role) => ({ roleId: role.id })) },
        },
        select: { id: true, email: true, name: true },
      });
    },
    async sessionCookie(userId) {
      const token = await encode({ token: { sub: userId }, secret: TEST_AUTH_SECRET, maxAge: 3600 });
      return `next-auth.session-token=${token}`;
    },
    async client(options = {}) {
      const cookie = options.userId ? await testServer.sessionCookie(options.userId) : undefined;
      const client = createNodeTrpcClient({
        baseUrl: server.url,
        cookie,
        origin: options.origin,
        headers: { "x-forwarded-for": options.address ?? randomTestAddress() },
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      await server.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return testServer;
}
