import type { Db } from "./db/client";
import type { Realtime } from "./realtime";

/** What domain services are given: the database, and where committed events go. */
export interface ServiceDeps {
  prisma: Db;
  realtime: Pick<Realtime, "publish">;
}
