import { z } from "zod";

export const presenceStatusSchema = z.enum(["online", "away", "offline"]);

export const getPresenceInput = z.object({ userIds: z.array(z.uuid()).min(1).max(500) });
export const getPresenceOutput = z.array(
  z.object({ userId: z.uuid(), status: presenceStatusSchema, lastSeenAt: z.date().nullable() }),
);

/** What a client reports about the person in front of it. */
export const setPresenceInput = z.object({
  /** Absent: unchanged (a report of the screen only). */
  status: z.enum(["active", "idle"]).optional(),
  /**
   * The conversation on a visible, focused screen (null: none); its new messages
   * notify nobody on it. Taken on the WebSocket only, where the server knows the screen.
   */
  viewingConversationId: z.uuid().toLowerCase().nullish(),
});
