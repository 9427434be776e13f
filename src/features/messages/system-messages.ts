import type { Prisma } from "~/generated/prisma/client";
import type { NewEvent } from "~/server/realtime/event-store";
import { messageEvent, messageSelect, previewOf, toMessage } from "./message-mapper";

/**
 * Stores a system message ("Ana added Ben") in the caller's transaction: it takes
 * the next seq like any message. Returns the event that announces it.
 */
export async function writeSystemMessage(
  tx: Prisma.TransactionClient,
  conversationId: string,
  content: string,
  metadata: Record<string, unknown>,
): Promise<NewEvent> {
  const [conversation] = await tx.$queryRaw<{ last_seq: number }[]>`
    UPDATE conversations
       SET last_seq = last_seq + 1, last_message_at = now(), last_message_preview = ${previewOf(content)},
           last_message_sender_id = NULL, updated_at = now()
     WHERE id = ${conversationId}::uuid
     RETURNING last_seq`;
  if (!conversation) throw new Error(`conversation ${conversationId} vanished inside its own transaction`);
  const row = await tx.message.create({
    data: { conversationId, seq: conversation.last_seq, type: "SYSTEM", content, metadata: metadata as Prisma.InputJsonValue },
    select: messageSelect,
  });
  return messageEvent("message.created", toMessage(row));
}
