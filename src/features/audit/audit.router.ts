import { PERMISSIONS } from "~/features/permissions/catalog";
import { permissionProcedure, router } from "~/server/trpc/trpc";
import { auditActionsOutput, auditListInput, auditListOutput } from "./contracts";
import * as audit from "./audit.service";

// The audit log is for moderators: who did what, when, from where.
export const auditRouter = router({
  list: permissionProcedure(PERMISSIONS.messagingAdmin)
    .input(auditListInput)
    .output(auditListOutput)
    .query(({ ctx, input }) => audit.listAudit(ctx.prisma, input)),

  actions: permissionProcedure(PERMISSIONS.messagingAdmin)
    .output(auditActionsOutput)
    .query(() => audit.listAuditActions()),
});
