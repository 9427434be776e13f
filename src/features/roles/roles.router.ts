import { PERMISSIONS } from "~/features/permissions/catalog";
import { getRealtime } from "~/server/realtime";
import { permissionProcedure, router } from "~/server/trpc/trpc";
import {
  roleUserSchema,
  roleUsersInput,
  roleUsersOutput,
  rolesListOutput,
  setRolePermissionsInput,
  setUserRolesInput,
} from "./contracts";
import * as roles from "./roles.service";

// Super Admins (roles:manage) edit roles' permissions and users' roles; every change is audited.
const manage = permissionProcedure(PERMISSIONS.rolesManage);

export const rolesRouter = router({
  list: manage.output(rolesListOutput).query(({ ctx }) => roles.listRoles(ctx.prisma)),

  /** The Super Admin role keeps roles:manage (CONFLICT otherwise). */
  setPermissions: manage
    .input(setRolePermissionsInput)
    .output(rolesListOutput)
    .mutation(({ ctx, input }) =>
      roles.setRolePermissions({ prisma: ctx.prisma, bus: getRealtime().bus }, { userId: ctx.user.id, ip: ctx.ip, userAgent: ctx.userAgent }, input),
    ),

  users: manage
    .input(roleUsersInput)
    .output(roleUsersOutput)
    .query(({ ctx, input }) => roles.listRoleUsers(ctx.prisma, input)),

  /** The last Super Admin keeps that role (CONFLICT otherwise). */
  setUserRoles: manage
    .input(setUserRolesInput)
    .output(roleUserSchema)
    .mutation(({ ctx, input }) => roles.setUserRoles({ prisma: ctx.prisma, bus: getRealtime().bus }, { userId: ctx.user.id, ip: ctx.ip, userAgent: ctx.userAgent }, input)),
});
