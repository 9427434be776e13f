import type pg from "pg";
import type { Redis } from "ioredis";
import { instanceId } from "~/server/instance";

export interface DependencyHealth {
  status: "up" | "down";
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: "ok" | "degraded";
  instanceId: string;
  uptimeSeconds: number;
  database: DependencyHealth & { kind: "embedded" | "postgresql" };
  redis?: DependencyHealth;
}

const CHECK_TIMEOUT_MS = 2000;

async function probe(check: () => Promise<unknown>): Promise<DependencyHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: "up", latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { status: "down", latencyMs: Math.round(performance.now() - started), error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkHealth(deps: {
  pool: pg.Pool;
  embedded: boolean;
  redis: Redis | null;
}): Promise<HealthReport> {
  const [database, redis] = await Promise.all([
    probe(() => deps.pool.query("SELECT 1")),
    deps.redis ? probe(() => deps.redis!.ping()) : Promise.resolve(undefined),
  ]);
  const healthy = database.status === "up" && (!redis || redis.status === "up");
  return {
    status: healthy ? "ok" : "degraded",
    instanceId,
    uptimeSeconds: Math.round(process.uptime()),
    database: { ...database, kind: deps.embedded ? "embedded" : "postgresql" },
    ...(redis ? { redis } : {}),
  };
}
