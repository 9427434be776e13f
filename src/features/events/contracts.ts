import { z } from "zod";
import { participantSchema } from "~/features/conversations/contracts";
import { messageSchema, reactionSummarySchema, receiptStatusSchema } from "~/features/messages/contracts";
import { wireNotificationSchema } from "~/features/notifications/contracts";
import { publicMessagingSettingsSchema } from "~/features/settings/contracts";

// The events a signed-in client receives on its one subscription, events.onEvent.
// Durable events (everything but typing, presence and settings changes) are stored
// and come with a resumable id; dates travel as ISO strings because events are
// stored as JSON.

const isoDate = z.iso.datetime({ offset: true });

/** A message as an event carries it: the message contract with its dates as strings. */
export const wireMessageSchema = messageSchema.extend({
  createdAt: isoDate,
  editedAt: isoDate.nullable(),
  deletedAt: isoDate.nullable(),
});
export type WireMessage = z.infer<typeof wireMessageSchema>;

export const readyEventSchema = z.object({
  type: z.literal("ready"),
  userId: z.uuid(),
  /** Which server instance holds this connection. */
  instanceId: z.string(),
  /** The id of the newest event at the moment the stream went live. */
  lastEventId: z.string(),
  /** How many missed events were replayed before going live. */
  replayed: z.number().int(),
});

/** A member's delivery or read position moved to `upToSeq`. */
export const receiptSchema = z.object({
  conversationId: z.uuid(),
  userId: z.uuid(),
  status: receiptStatusSchema.exclude(["SENT"]),
  upToSeq: z.number().int(),
  at: isoDate,
});
export type Receipt = z.infer<typeof receiptSchema>;

export const durableEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("message.created"), message: wireMessageSchema }),
  z.object({ type: z.literal("message.updated"), message: wireMessageSchema }),
  z.object({ type: z.literal("message.deleted"), conversationId: z.uuid(), messageId: z.uuid(), seq: z.number().int() }),
  z.object({
    type: z.literal("reaction.updated"),
    conversationId: z.uuid(),
    messageId: z.uuid(),
    reactions: z.array(reactionSummarySchema),
  }),
  // One member's position moved. Written by earlier versions; still replayed from stored events.
  receiptSchema.extend({ type: z.literal("receipt.updated") }),
  // Every move one person hears about from one commit, together: in a busy group a
  // flush of deliveries moves dozens of positions, and each sender would otherwise
  // get an event per move.
  z.object({ type: z.literal("receipts.updated"), receipts: z.array(receiptSchema) }),
  z.object({
    type: z.literal("conversation.created"),
    conversation: z.object({
      id: z.uuid(),
      type: z.enum(["DIRECT", "GROUP"]),
      name: z.string().nullable(),
      createdById: z.uuid().nullable(),
      participants: z.array(participantSchema),
      createdAt: isoDate,
    }),
  }),
  z.object({ type: z.literal("conversation.members_added"), conversationId: z.uuid(), participants: z.array(participantSchema) }),
  z.object({ type: z.literal("conversation.member_removed"), conversationId: z.uuid(), userId: z.uuid() }),
  z.object({ type: z.literal("conversation.muted"), conversationId: z.uuid(), muted: z.boolean() }),
  // The owner's bell: a notification new or grown by a burst, read (on any device), deleted.
  z.object({ type: z.literal("notification.upserted"), notification: wireNotificationSchema }),
  z.object({ type: z.literal("notifications.read"), ids: z.array(z.uuid()), readAt: isoDate }),
  z.object({ type: z.literal("notification.deleted"), id: z.uuid() }),
]);
export type DurableEvent = z.infer<typeof durableEventSchema>;

export const ephemeralEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("typing"),
    conversationId: z.uuid(),
    userId: z.uuid(),
    isTyping: z.boolean(),
    /** When the indicator goes away if no update comes. */
    expiresAt: isoDate,
  }),
  z.object({
    type: z.literal("presence"),
    userId: z.uuid(),
    status: z.enum(["online", "away", "offline"]),
    lastSeenAt: isoDate.nullable(),
  }),
  /**
   * A notification grew with a burst (count, newest preview). Only its creation is
   * stored; a client that missed a growth refetches its bell when the stream is ready.
   */
  z.object({ type: z.literal("notification.updated"), notification: wireNotificationSchema }),
  /** An admin changed the messaging settings: their public view, to everyone. */
  z.object({ type: z.literal("settings.updated"), settings: publicMessagingSettingsSchema }),
]);
export type EphemeralEvent = z.infer<typeof ephemeralEventSchema>;

export type ClientEvent = z.infer<typeof readyEventSchema> | DurableEvent | EphemeralEvent;

export const onEventInput = z
  .object({
    /** The id of the last durable event this client processed: the server replays what followed. */
    lastEventId: z.string().regex(/^\d{1,19}$/).nullish(),
  })
  .nullish();

/** The error cause a client gets when its cursor cannot be replayed: reload, then subscribe afresh. */
export const RESYNC_REQUIRED = "RESYNC_REQUIRED";
