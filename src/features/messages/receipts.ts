import type { Prisma } from "~/generated/prisma/client";
import type { Receipt } from "~/features/events/contracts";
import type { NewEvent } from "~/server/realtime/event-store";

// Who hears about a receipt: the senders of the messages it covers (for their
// "delivered" and "read" ticks and "seen by"), and for a read, the reader's own
// other devices (to clear the unread badge). Not the whole conversation: in a
// group of a hundred, each receipt would otherwise go to a hundred people. Each
// listener gets one event per commit with every move they hear about: a flush of
// deliveries in a busy group moves dozens of positions at once.

export interface PositionMove {
  conversationId: string;
  userId: string;
  status: "DELIVERED" | "READ";
  previousSeq: number;
  upToSeq: number;
  at: Date;
}

export async function receiptEvents(tx: Prisma.TransactionClient, moves: PositionMove[]): Promise<NewEvent[]> {
  if (moves.length === 0) return [];
  const senders = await tx.$queryRaw<{ index: number; sender_id: string }[]>`
    SELECT DISTINCT d.index::int AS index, m.sender_id
      FROM unnest(${moves.map((m) => m.conversationId)}::uuid[], ${moves.map((m) => m.userId)}::uuid[],
                  ${moves.map((m) => m.previousSeq)}::int[], ${moves.map((m) => m.upToSeq)}::int[])
           WITH ORDINALITY AS d(conversation_id, user_id, previous_seq, up_to_seq, index)
      -- Lateral, so each move reads only its own seq range of (conversation_id, seq): as a
      -- plain join the planner may scan a conversation's whole history once per member.
      CROSS JOIN LATERAL (
        SELECT DISTINCT m.sender_id FROM messages m
         WHERE m.conversation_id = d.conversation_id AND m.seq > d.previous_seq AND m.seq <= d.up_to_seq
           AND m.sender_id <> d.user_id
      ) m
      -- Senders who have left the conversation hear nothing more of it.
      JOIN conversation_participants sender
        ON sender.conversation_id = d.conversation_id AND sender.user_id = m.sender_id AND sender.left_at IS NULL`;
  const sendersOfMove = new Map<number, string[]>();
  for (const { index, sender_id } of senders) sendersOfMove.set(index, [...(sendersOfMove.get(index) ?? []), sender_id]);
  // Per listener, every move they hear about, as one event.
  const byAudience = new Map<string, Receipt[]>();
  moves.forEach((move, position) => {
    const receipt: Receipt = {
      conversationId: move.conversationId,
      userId: move.userId,
      status: move.status,
      upToSeq: move.upToSeq,
      at: move.at.toISOString(),
    };
    const audience = new Set(sendersOfMove.get(position + 1));
    if (move.status === "READ") audience.add(move.userId);
    for (const userId of audience) {
      const heard = byAudience.get(userId) ?? [];
      heard.push(receipt);
      byAudience.set(userId, heard);
    }
  });
  const events: NewEvent[] = [];
  for (const [userId, receipts] of byAudience) {
    const conversationIds = new Set(receipts.map((receipt) => receipt.conversationId));
    events.push({
      type: "receipts.updated",
      // A personal event; it names its conversation when it concerns only one.
      conversationId: conversationIds.size === 1 ? receipts[0]!.conversationId : null,
      userId,
      payload: { type: "receipts.updated", receipts },
    });
  }
  return events;
}
