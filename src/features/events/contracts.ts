import { z } from "zod";

// The events a signed-in client receives on its one subscription. The messaging
// core adds message, receipt, typing and presence events to this union.

export const readyEventSchema = z.object({
  type: z.literal("ready"),
  userId: z.uuid(),
  /** Which server instance holds this connection (useful when several run). */
  instanceId: z.string(),
  serverTime: z.date(),
});

export const clientEventSchema = z.discriminatedUnion("type", [readyEventSchema]);
export type ClientEvent = z.infer<typeof clientEventSchema>;

export const onEventInput = z
  .object({
    /**
     * The id of the last durable event this client processed. Accepted now so
     * clients can send it from day one; replay from it comes with the durable
     * message events.
     */
    lastEventId: z.string().max(64).nullish(),
  })
  .nullish();
