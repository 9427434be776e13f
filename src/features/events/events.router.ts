import { PERMISSIONS } from "~/features/permissions/catalog";
import { TRPCError } from "@trpc/server";
import { watchSession } from "~/server/trpc/session-watch";
import { mapDomainErrors, permissionProcedure, router } from "~/server/trpc/trpc";
import { onEventInput } from "./contracts";
import { streamEvents } from "./event-stream";
import { getMessagingRuntime } from "./runtime";

export const eventsRouter = router({
  /**
   * The one subscription of a signed-in client: every event it may see. Durable
   * events are tracked; a reconnecting client sends the last id it got (wsLink
   * does it) and receives what it missed, in order, once. While it is open, its
   * user counts as connected for presence.
   */
  onEvent: permissionProcedure(PERMISSIONS.messagingAccess)
    .input(onEventInput)
    .subscription(async function* ({ ctx, input, signal }) {
      const { hub, presence, deliveries, options } = getMessagingRuntime();
      const session = watchSession(ctx, PERMISSIONS.messagingAccess, options.sessionCheckMs ?? 60_000, signal);
      try {
        await presence.connected(ctx.user.id, ctx.connectionId);
        await deliveries.deliverPending(ctx.user.id);
        yield* mapDomainErrors(
          streamEvents({
            prisma: ctx.prisma,
            hub,
            userId: ctx.user.id,
            lastEventId: input?.lastEventId,
            signal: session.signal,
            socket: ctx.socket,
            queueCapacity: options.queueCapacity,
            socketHighWaterBytes: options.socketHighWaterBytes,
            onMessageDelivered: (conversationId, seq) => deliveries.record(conversationId, ctx.user.id, seq),
          }),
        );
        if (session.ended) throw new TRPCError({ code: "UNAUTHORIZED", message: "Your session has ended. Sign in again." });
      } finally {
        session.stop();
        void presence.disconnected(ctx.user.id, ctx.connectionId).catch((error: unknown) => {
          ctx.log.warn({ err: error }, "presence update after disconnect failed");
        });
      }
    }),
});
