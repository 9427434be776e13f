import type { Conversation } from "../contracts";

/** A group's name, or for a direct conversation the other person's. */
export function conversationTitle(conversation: Pick<Conversation, "type" | "name" | "participants">, viewerId: string): string {
  if (conversation.type === "GROUP") return conversation.name ?? "Group";
  const other = conversation.participants.find((p) => p.id !== viewerId);
  return other?.name ?? "Only you";
}

export function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  return (
    words
      .slice(0, 2)
      .map((word) => word[0])
      .join("")
      .toUpperCase() || "?"
  );
}
