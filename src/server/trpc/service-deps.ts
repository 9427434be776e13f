import { getRealtime } from "~/server/realtime";
import type { ServiceDeps } from "~/server/service-deps";
import type { Context } from "./context";

/** The services' dependencies for one call. */
export function serviceDeps(ctx: Pick<Context, "prisma"> & Partial<Pick<Context, "ip" | "userAgent">>): ServiceDeps {
  return { prisma: ctx.prisma, realtime: getRealtime(), origin: { ip: ctx.ip ?? null, userAgent: ctx.userAgent ?? null } };
}
