import { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";
import { DomainError } from "~/server/errors";

// Search statements run in a short transaction of their own so that their
// settings apply to them alone (SET LOCAL) and never leak to the pooled
// connection's next user:
// - JIT off: on a search the planner's cost estimate can cross jit_above_cost,
//   and compiling then took 0.2-2.7 s for queries that run in milliseconds
//   (measured on a machine like ours; bench/RESULTS.md, search);
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

/**
 * Runs `statement` with JIT off and the search timeout (plus any pg_trgm settings).
 * `precondition`, a boolean SQL expression (say, that the caller is a member of the
 * conversation searched), is read in the same round trip as the settings; when it is
 * false the answer is null. The statement runs anyway (a batch cannot stop half-way),
 * so it must carry the same condition itself.
 */
export async function inSearchTransaction<T>(
  prisma: Db,
  statement: Prisma.PrismaPromise<T>,
  options: { trigram?: TrigramSettings; timeoutMs?: number; precondition?: Prisma.Sql } = {},
): Promise<T | null> {
  const settings = Object.entries(options.trigram ?? {}).map(
    ([name, value]) => prisma.$queryRaw`SELECT set_config(${name}, ${String(value)}, true)`,
  );
  const timeout = String(options.timeoutMs ?? SEARCH_STATEMENT_TIMEOUT_MS);
  const precondition = options.precondition ?? Prisma.sql`true`;
  try {
    const results = await prisma.$transaction([
      prisma.$queryRaw<{ allowed: boolean }[]>`
        SELECT set_config('jit', 'off', true), set_config('statement_timeout', ${timeout}, true), (${precondition}) AS allowed`,
      ...settings,
      statement,
    ]);
    const [first] = results[0] as { allowed: boolean }[];
    return first?.allowed ? (results[results.length - 1] as T) : null;
  } catch (error) {
    if (isQueryCanceled(error)) {
      throw new DomainError("BAD_REQUEST", "That search matches too much to finish in time. Add words, or limit it to a conversation, a person or dates.");
    }
    throw error;
  }
}
