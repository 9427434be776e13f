import { PERMISSIONS } from "~/features/permissions/catalog";
import { permissionProcedure, router } from "~/server/trpc/trpc";
import { exportUserData, exportUserDataAsAdmin, exportUserInput, userExportSchema } from "./export";

export const exportRouter = router({
  /** The caller's own data (also GET /api/export as a file). */
  mine: permissionProcedure(PERMISSIONS.messagingAccess)
    .output(userExportSchema)
    .query(({ ctx }) => exportUserData(ctx.prisma, ctx.user.id)),

  /**
   * Anyone's data for an admin: their account, conversations and their own messages,
   * not what others wrote to them. A mutation: each call writes to the audit log.
   */
  user: permissionProcedure(PERMISSIONS.messagingAdmin)
    .input(exportUserInput)
    .output(userExportSchema)
    .mutation(({ ctx, input }) =>
      exportUserDataAsAdmin(ctx.prisma, { userId: ctx.user.id, ip: ctx.ip, userAgent: ctx.userAgent }, input.userId),
    ),
});
