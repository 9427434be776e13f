import type { MemberPosition, Participant } from "~/features/conversations/contracts";

// Where one's own message has got, from the other members' delivery and read
// positions: the ticks under own messages and "seen by" in groups.

export type OwnMessageStatus = "sending" | "failed" | "sent" | "delivered" | "read";

/** Read once every other member read it, delivered once every other member's client has it. */
export function statusOfOwnMessage(seq: number, positions: MemberPosition[], viewerId: string): "sent" | "delivered" | "read" {
  const others = positions.filter((position) => position.userId !== viewerId);
  if (others.length === 0) return "sent";
  if (others.every((position) => position.lastReadSeq >= seq)) return "read";
  if (others.every((position) => Math.max(position.lastDeliveredSeq, position.lastReadSeq) >= seq)) return "delivered";
  return "sent";
}

/** The other members who have read up to `seq`, in member order. */
export function seenBy(seq: number, positions: MemberPosition[], participants: Participant[], viewerId: string): Participant[] {
  const readers = new Set(positions.filter((p) => p.userId !== viewerId && p.lastReadSeq >= seq).map((p) => p.userId));
  return participants.filter((participant) => readers.has(participant.id));
}

export function seenByLabel(readers: Participant[], memberCount: number): string {
  if (readers.length === 0) return "";
  if (readers.length === memberCount - 1 && memberCount > 2) return "Seen by everyone";
  if (readers.length <= 3) return `Seen by ${readers.map((reader) => reader.name).join(", ")}`;
  return `Seen by ${readers
    .slice(0, 2)
    .map((reader) => reader.name)
    .join(", ")} and ${readers.length - 2} others`;
}

export const STATUS_LABELS: Record<OwnMessageStatus, string> = {
  sending: "Sending…",
  failed: "Not sent",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
};
