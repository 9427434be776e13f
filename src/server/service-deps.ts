import type { Db } from "./db/client";
import type { Realtime } from "./realtime";

/** What domain services are given: the database, and where committed events go. */
export interface ServiceDeps {
  prisma: Db;
  realtime: Pick<Realtime, "publish">;
  /** Where the call came from, for the audit log (absent: not from a request). */
  origin?: { ip: string | null; userAgent: string | null };
}
