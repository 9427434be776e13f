import { Redis } from "ioredis";

// One command connection per process when Redis is configured. server.ts decides
// the URL at start; code bundled by Next reads the same process-wide instance.

interface RedisState {
  url: string | null;
  client?: Redis | null;
}

const globalForRedis = globalThis as unknown as { __chatlineRedis?: RedisState };

function state(): RedisState {
  globalForRedis.__chatlineRedis ??= { url: process.env.REDIS_URL?.trim() || null };
  return globalForRedis.__chatlineRedis;
}

/** Sets the Redis of this process (null: none, real-time stays in-process). */
export function configureRedis(url: string | null): void {
  globalForRedis.__chatlineRedis = { url };
}

export function getRedis(): Redis | null {
  const current = state();
  if (current.client === undefined) {
    current.client = current.url ? new Redis(current.url, { maxRetriesPerRequest: 2 }) : null;
    // Connection errors are retried by ioredis and reported by /api/health.
    current.client?.on("error", () => {});
  }
  return current.client;
}

export async function closeRedis(): Promise<void> {
  const current = state();
  const client = current.client;
  current.client = undefined;
  if (client) await disconnectRedis(client);
}

/**
 * QUIT waits for the server; a client that never reached Redis would wait
 * forever (QUIT sits in its offline queue), so it is just dropped.
 */
export async function disconnectRedis(client: Redis): Promise<void> {
  if (client.status !== "ready") {
    client.disconnect();
    return;
  }
  await client.quit().catch(() => client.disconnect());
}
