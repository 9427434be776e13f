import { z } from "zod";

// Conversations as clients see them; shared by the procedures and the UI.

export const conversationTypeSchema = z.enum(["DIRECT", "GROUP"]);

export const participantSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  image: z.string().nullable(),
});
export type Participant = z.infer<typeof participantSchema>;

export const lastMessageSchema = z.object({
  senderId: z.uuid().nullable(),
  preview: z.string(),
});

/** How far a member has got: what the status ticks and "seen by" of one's own messages are computed from. */
export const memberPositionSchema = z.object({
  userId: z.uuid(),
  lastDeliveredSeq: z.number().int(),
  lastReadSeq: z.number().int(),
});
export type MemberPosition = z.infer<typeof memberPositionSchema>;

export const conversationSchema = z.object({
  id: z.uuid(),
  type: conversationTypeSchema,
  /** Group name; null for direct conversations (clients show the other person's name). */
  name: z.string().nullable(),
  createdById: z.uuid().nullable(),
  participants: z.array(participantSchema),
  /** Every current member's delivery and read position, the viewer's included. */
  positions: z.array(memberPositionSchema),
  lastMessage: lastMessageSchema.nullable(),
  lastMessageAt: z.date().nullable(),
  /** The seq of the newest message: the client's read marker goes up to it. */
  lastSeq: z.number().int(),
  /** The reader's own read position. */
  lastReadSeq: z.number().int(),
  unreadCount: z.number().int(),
  muted: z.boolean(),
  createdAt: z.date(),
});
export type Conversation = z.infer<typeof conversationSchema>;

export const groupNameSchema = z
  .string()
  .trim()
  .min(3, "Use at least 3 characters for the group name.")
  .max(100, "Use at most 100 characters for the group name.");

export const conversationIdInput = z.object({ conversationId: z.uuid() });

export const createDirectInput = z.object({ recipientId: z.uuid() });

export const createGroupInput = z.object({
  name: groupNameSchema,
  participantIds: z.array(z.uuid()).min(1, "Pick at least one person.").max(99, "That is too many people for one group."),
});
export type CreateGroupInput = z.infer<typeof createGroupInput>;

export const listConversationsInput = z
  .object({
    /** Opaque: the nextCursor of the previous page. */
    cursor: z.string().max(200).nullish(),
    limit: z.number().int().min(1).max(100).default(20),
    /** Only the conversations the caller muted (the notification settings list them). */
    mutedOnly: z.boolean().optional(),
  })
  .default({ limit: 20 });

export const listConversationsOutput = z.object({
  items: z.array(conversationSchema),
  nextCursor: z.string().nullable(),
});

export const addParticipantsInput = z.object({
  conversationId: z.uuid(),
  userIds: z.array(z.uuid()).min(1, "Pick at least one person.").max(99),
});

export const removeParticipantInput = z.object({ conversationId: z.uuid(), userId: z.uuid() });

export const markAsReadInput = z.object({ conversationId: z.uuid(), upToSeq: z.number().int().min(0) });
export const markAsReadOutput = z.object({ lastReadSeq: z.number().int(), unreadCount: z.number().int() });

export const unreadCountOutput = z.object({ total: z.number().int() });

export const setMutedInput = z.object({ conversationId: z.uuid(), muted: z.boolean() });
export const okOutput = z.object({ ok: z.literal(true) });
