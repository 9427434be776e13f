import type { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";
import { DomainError } from "~/server/errors";

// Search statements run in a short transaction of their own so that their
// settings apply to them alone (SET LOCAL) and never leak to the pooled
// connection's next user:
// - JIT off: on a search the planner's cost estimate can cross jit_above_cost,
//   and compiling then took 0.2-2.7 s for queries that run in milliseconds
//   (performance-facts.md);
// - a statement timeout: a search too broad to answer quickly is stopped and the
//   person told to narrow it, instead of holding a connection of the pool.

/** pg_trgm's settings for one statement, e.g. how similar a name must be to match. */
export type TrigramSettings = Partial<Record<"pg_trgm.similarity_threshold" | "pg_trgm.word_similarity_threshold", number>>;

/** Well under Prisma's 5 s transaction timeout, and far above what a search takes (bench/RESULTS.md). */
export const SEARCH_STATEMENT_TIMEOUT_MS = 3_000;

function isQueryCanceled(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let cause = error; cause && typeof cause === "object" && !seen.has(cause); cause = (cause as { cause?: unknown }).cause) {
    seen.add(cause);
    const { code, message } = cause as { code?: unknown; message?: unknown };
    if (code === "57014" || (typeof message === "string" && message.includes("canceling statement due to statement timeout"))) return true;
  }
  return false;
}

export async function inSearchTransaction<T>(
  prisma: Db,
  statement: Prisma.PrismaPromise<T>,
  options: { trigram?: TrigramSettings; timeoutMs?: number } = {},
): Promise<T> {
  const settings = Object.entries(options.trigram ?? {}).map(
    ([name, value]) => prisma.$queryRaw`SELECT set_config(${name}, ${String(value)}, true)`,
  );
  const timeout = String(options.timeoutMs ?? SEARCH_STATEMENT_TIMEOUT_MS);
  try {
    const results = await prisma.$transaction([
      prisma.$queryRaw`SELECT set_config('jit', 'off', true), set_config('statement_timeout', ${timeout}, true)`,
      ...settings,
      statement,
    ]);
    return results[results.length - 1] as T;
  } catch (error) {
    if (isQueryCanceled(error)) {
      throw new DomainError("BAD_REQUEST", "That search matches too much to finish in time. Add words, or limit it to a conversation, a person or dates.");
    }
    throw error;
  }
}
