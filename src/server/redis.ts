import { Redis } from "ioredis";

// One command connection per process when REDIS_URL is set (subscribers need
// their own connections and create them from the URL).

const globalForRedis = globalThis as unknown as { __chatlineRedis?: Redis | null };

export function getRedis(): Redis | null {
  if (globalForRedis.__chatlineRedis === undefined) {
    const url = process.env.REDIS_URL?.trim();
    globalForRedis.__chatlineRedis = url
      ? new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true })
      : null;
    // Connection errors are retried by ioredis and reported by /api/health.
    globalForRedis.__chatlineRedis?.on("error", () => {});
  }
  return globalForRedis.__chatlineRedis;
}

export async function closeRedis(): Promise<void> {
  const redis = globalForRedis.__chatlineRedis;
  globalForRedis.__chatlineRedis = undefined;
  if (redis) await redis.quit().catch(() => redis.disconnect());
}
