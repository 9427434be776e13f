import type { WireMessage } from "~/features/events/contracts";
import type { Prisma } from "~/generated/prisma/client";
import type { NewEvent } from "~/server/realtime/event-store";
import type { Message } from "./contracts";

// One shape for a message wherever it leaves the server: a query result, or the
// payload of an event (the same fields, dates as ISO strings).

export const messageSelect = {
  id: true,
  conversationId: true,
  seq: true,
  senderId: true,
  type: true,
  content: true,
  metadata: true,
  clientMessageId: true,
  createdAt: true,
  editedAt: true,
  deletedAt: true,
  sender: { select: { name: true, image: true } },
  reactions: { select: { emoji: true, userId: true, createdAt: true }, orderBy: { createdAt: "asc" } },
} satisfies Prisma.MessageSelect;

export type MessageRow = Prisma.MessageGetPayload<{ select: typeof messageSelect }>;

export function summarizeReactions(reactions: { emoji: string; userId: string }[]) {
  const byEmoji = new Map<string, string[]>();
  for (const reaction of reactions) {
    const users = byEmoji.get(reaction.emoji) ?? [];
    users.push(reaction.userId);
    byEmoji.set(reaction.emoji, users);
  }
  return [...byEmoji].map(([emoji, userIds]) => ({ emoji, count: userIds.length, userIds }));
}

export function toMessage(row: MessageRow): Message {
  const deleted = row.deletedAt !== null;
  return {
    id: row.id,
    conversationId: row.conversationId,
    seq: row.seq,
    senderId: row.senderId,
    senderName: row.sender?.name ?? null,
    senderImage: row.sender?.image ?? null,
    type: row.type,
    content: deleted ? null : row.content,
    metadata: deleted ? null : ((row.metadata as Record<string, unknown> | null) ?? null),
    clientMessageId: row.clientMessageId,
    createdAt: row.createdAt,
    editedAt: row.editedAt,
    deletedAt: row.deletedAt,
    reactions: deleted ? [] : summarizeReactions(row.reactions),
  };
}

export function toWireMessage(message: Message): WireMessage {
  return {
    ...message,
    createdAt: message.createdAt.toISOString(),
    editedAt: message.editedAt?.toISOString() ?? null,
    deletedAt: message.deletedAt?.toISOString() ?? null,
  };
}

/** The durable event announcing a new or changed message. */
export function messageEvent(type: "message.created" | "message.updated", message: Message): NewEvent {
  return {
    type,
    conversationId: message.conversationId,
    messageId: message.id,
    payload: { type, message: toWireMessage(message) },
  };
}

/** The conversation list's one-line preview. */
export function previewOf(content: string): string {
  const line = content.replace(/\s+/g, " ").trim();
  return line.length > 140 ? `${line.slice(0, 139)}…` : line;
}
