import { instanceId } from "~/server/instance";
import { authedProcedure, router } from "~/server/trpc/trpc";
import { onEventInput, type ClientEvent } from "./contracts";

export const eventsRouter = router({
  /**
   * The one subscription of a signed-in client. It opens with a `ready` event and
   * stays open until the client unsubscribes or disconnects.
   */
  onEvent: authedProcedure.input(onEventInput).subscription(async function* ({ ctx, signal }) {
    const ready: ClientEvent = { type: "ready", userId: ctx.user.id, instanceId, serverTime: new Date() };
    yield ready;
    await new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  }),
});
