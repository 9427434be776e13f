import { okOutput } from "~/features/conversations/contracts";
import { getMessagingRuntime } from "~/features/events/runtime";
import { PERMISSIONS } from "~/features/permissions/catalog";
import { permissionProcedure, router, userCallBudget } from "~/server/trpc/trpc";
import { getPresenceInput, getPresenceOutput, setPresenceInput } from "./contracts";

const member = permissionProcedure(PERMISSIONS.messagingAccess);

export const presenceRouter = router({
  get: member
    .use(userCallBudget("read"))
    .input(getPresenceInput)
    .output(getPresenceOutput)
    .query(({ input }) => getMessagingRuntime().presence.get([...new Set(input.userIds)])),

  /** Over the WebSocket it applies to that connection; over HTTP to all of the user's. */
  set: member
    .use(userCallBudget("typing"))
    .input(setPresenceInput)
    .output(okOutput)
    .mutation(async ({ ctx, input }) => {
      await getMessagingRuntime().presence.report(
        ctx.user.id,
        ctx.socket ? ctx.connectionId : null,
        input.status,
        input.viewingConversationId,
      );
      return { ok: true as const };
    }),
});
