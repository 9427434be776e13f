import { z } from "zod";
import { PERMISSIONS } from "~/features/permissions/catalog";
import { permissionProcedure, router } from "~/server/trpc/trpc";
import { retentionPreview } from "./retention";
import { getStatusReporter, messagingStatusSchema } from "./status";

const admin = permissionProcedure(PERMISSIONS.messagingAdmin);

export const adminRouter = router({
  /** Connected clients, online and typing users, active conversations: per instance and in total (GET /api/messaging/status too). */
  status: admin.output(messagingStatusSchema).query(() => getStatusReporter().read()),

  /** How many messages the next retention run would delete. */
  retentionPreview: admin
    .output(
      z.object({
        retentionDays: z.number().int(),
        cutoff: z.date(),
        messages: z.number().int(),
        /** This instance's schedule (null: RETENTION_INTERVAL_MS=0 here). */
        schedule: z
          .object({
            intervalMs: z.number().int(),
            nextRunAt: z.date(),
            lastRun: z
              .object({
                startedAt: z.date(),
                finishedAt: z.date(),
                ran: z.boolean(),
                failed: z.boolean(),
                deletedMessages: z.number().int(),
                deletedAuditEntries: z.number().int(),
              })
              .nullable(),
          })
          .nullable(),
      }),
    )
    .query(({ ctx }) => retentionPreview(ctx.prisma)),
});
