import { PERMISSIONS } from "~/features/permissions/catalog";
import { permissionProcedure, router, userCallBudget } from "~/server/trpc/trpc";
import { searchUsersInput, searchUsersOutput } from "./contracts";
import { searchUsers } from "./users.service";

export const usersRouter = router({
  search: permissionProcedure(PERMISSIONS.messagingAccess)
    .use(userCallBudget("search"))
    .input(searchUsersInput)
    .output(searchUsersOutput)
    .query(({ ctx, input }) => searchUsers(ctx.prisma, ctx.user.id, input.query)),
});
