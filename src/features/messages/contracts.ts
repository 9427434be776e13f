import { z } from "zod";
import { attachmentIdsSchema } from "~/features/attachments/contracts";

// Messages as clients see them; shared by the procedures and the UI. Content is
// plain text, stored as sent and never rendered as HTML.

/** The most any setting allows; the current limit comes from the messaging settings. */
export const ABSOLUTE_MAX_MESSAGE_LENGTH = 5000;

export const messageTypeSchema = z.enum(["TEXT", "SYSTEM"]);

export const reactionSummarySchema = z.object({
  emoji: z.string(),
  count: z.number().int(),
  userIds: z.array(z.uuid()),
});

export const messageSchema = z.object({
  id: z.uuid(),
  conversationId: z.uuid(),
  seq: z.number().int(),
  senderId: z.uuid().nullable(),
  senderName: z.string().nullable(),
  senderImage: z.string().nullable(),
  type: messageTypeSchema,
  /** Null once the message is deleted: deleted content is served to nobody. */
  content: z.string().nullable(),
  /** System messages: what happened, for clients that render it themselves. */
  metadata: z.record(z.string(), z.unknown()).nullable(),
  clientMessageId: z.string().nullable(),
  createdAt: z.date(),
  editedAt: z.date().nullable(),
  deletedAt: z.date().nullable(),
  reactions: z.array(reactionSummarySchema),
});
export type Message = z.infer<typeof messageSchema>;

/** A message's text, which may be empty (a message of files only). */
const messageTextSchema = z
  .string()
  .trim()
  .max(ABSOLUTE_MAX_MESSAGE_LENGTH, `Messages are at most ${ABSOLUTE_MAX_MESSAGE_LENGTH} characters.`)
  // PostgreSQL text cannot hold U+0000: refused here rather than failing the write.
  .refine((text) => !text.includes("\u0000"), "Messages cannot contain the NUL character.");

export const messageContentSchema = messageTextSchema.refine((text) => text.length > 0, "Write something first.");

export const clientMessageIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\w-]+$/, "A client message id is letters, digits, - and _.");

export const sendMessageInput = z
  .object({
    conversationId: z.uuid(),
    /** May be empty when the message carries files. */
    content: messageTextSchema,
    clientMessageId: clientMessageIdSchema,
    /** Files uploaded to this conversation by the sender and not sent yet (attachments/contracts.ts). */
    attachmentIds: attachmentIdsSchema.default([]),
  })
  .refine((input) => input.content !== "" || input.attachmentIds.length > 0, {
    path: ["content"],
    message: "Write something first.",
  });
export type SendMessageInput = z.infer<typeof sendMessageInput>;

export const listMessagesInput = z
  .object({
    conversationId: z.uuid(),
    beforeSeq: z.number().int().min(1).optional(),
    afterSeq: z.number().int().min(0).optional(),
    /** The messages around this seq, it included (opening a search result): half before it, half from it on. */
    aroundSeq: z.number().int().min(1).optional(),
    limit: z.number().int().min(1).max(100).default(50),
  })
  .refine((input) => [input.beforeSeq, input.afterSeq, input.aroundSeq].filter((seq) => seq !== undefined).length <= 1, {
    message: "Page before, after or around a seq: one of them.",
  });

export const listMessagesOutput = z.object({
  /** Oldest first. */
  items: z.array(messageSchema),
  hasMoreBefore: z.boolean(),
  hasMoreAfter: z.boolean(),
});

export const messageIdInput = z.object({ messageId: z.uuid() });

export const editMessageInput = z.object({ messageId: z.uuid(), content: messageContentSchema });

/** One emoji (a grapheme cluster of a few code points), not arbitrary text. */
export const emojiSchema = z
  .string()
  .min(1)
  .max(32)
  .refine((value) => /^\p{Extended_Pictographic}/u.test(value) && [...new Intl.Segmenter().segment(value)].length === 1, {
    message: "React with a single emoji.",
  });

export const reactInput = z.object({ messageId: z.uuid(), emoji: emojiSchema });

export const receiptStatusSchema = z.enum(["SENT", "DELIVERED", "READ"]);

export const messageStatusesOutput = z.object({
  messageId: z.uuid(),
  recipients: z.array(
    z.object({
      userId: z.uuid(),
      name: z.string(),
      status: receiptStatusSchema,
      deliveredAt: z.date().nullable(),
      readAt: z.date().nullable(),
    }),
  ),
});

export const typingInput = z.object({ conversationId: z.uuid(), isTyping: z.boolean() });
