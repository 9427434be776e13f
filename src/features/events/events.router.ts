import { PERMISSIONS } from "~/features/permissions/catalog";
import { mapDomainErrors, permissionProcedure, router } from "~/server/trpc/trpc";
import { onEventInput } from "./contracts";
import { getEventHub } from "./event-hub-instance";
import { streamEvents } from "./event-stream";

export const eventsRouter = router({
  /**
   * The one subscription of a signed-in client: every event it may see. Durable
   * events are tracked; a reconnecting client sends the last id it got (wsLink
   * does it) and receives what it missed, in order, once.
   */
  onEvent: permissionProcedure(PERMISSIONS.messagingAccess)
    .input(onEventInput)
    .subscription(({ ctx, input, signal }) =>
      mapDomainErrors(
        streamEvents({
          prisma: ctx.prisma,
          hub: getEventHub(),
          userId: ctx.user.id,
          lastEventId: input?.lastEventId,
          signal,
          socket: ctx.socket,
        }),
      ),
    ),
});
