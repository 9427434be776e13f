import type { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";

// Search statements run in a short transaction of their own so that their
// settings apply to them alone (SET LOCAL) and never leak to the pooled
// connection's next user. JIT is off: on a search the planner's cost estimate
// can cross jit_above_cost, and compiling then took 0.2-2.7 s for queries that
// run in a few milliseconds (performance-facts.md).

/** pg_trgm's settings for one statement, e.g. how similar a name must be to match. */
export type TrigramSettings = Partial<Record<"pg_trgm.similarity_threshold" | "pg_trgm.word_similarity_threshold", number>>;

export async function inSearchTransaction<T>(prisma: Db, statement: Prisma.PrismaPromise<T>, trigram: TrigramSettings = {}): Promise<T> {
  const settings = Object.entries(trigram).map(
    ([name, value]) => prisma.$queryRaw`SELECT set_config(${name}, ${String(value)}, true)`,
  );
  const results = await prisma.$transaction([prisma.$executeRaw`SET LOCAL jit = off`, ...settings, statement]);
  return results[results.length - 1] as T;
}
