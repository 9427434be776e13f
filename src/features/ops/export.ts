import { z } from "zod";
import { recordAudit } from "~/features/audit/audit.service";
import type { Db } from "~/server/db/client";
import { DomainError } from "~/server/errors";

// A user's data as JSON: their account, every conversation they are or were in
// (with their membership), and the messages they could see there: those sent
// while they were a member (from the event that added them to the one that
// removed them, the same windows the event replay uses), plus every message of
// their own. Deleted messages are listed without content, as the app shows them.
// Reactions are listed with who reacted (members see that in the app too).

export const exportUserInput = z.object({ userId: z.uuid() });

const exportedMessage = z.object({
  id: z.string(),
  seq: z.number().int(),
  senderId: z.string().nullable(),
  senderName: z.string().nullable(),
  type: z.enum(["TEXT", "SYSTEM"]),
  content: z.string().nullable(),
  createdAt: z.date(),
  editedAt: z.date().nullable(),
  deletedAt: z.date().nullable(),
  reactions: z.array(z.object({ emoji: z.string(), userId: z.string() })),
});

export const userExportSchema = z.object({
  format: z.literal("chatline-export/1"),
  exportedAt: z.date(),
  user: z.object({ id: z.string(), email: z.string(), name: z.string(), createdAt: z.date() }),
  conversations: z.array(
    z.object({
      id: z.string(),
      type: z.enum(["DIRECT", "GROUP"]),
      name: z.string().nullable(),
      createdAt: z.date(),
      membership: z.object({
        role: z.enum(["OWNER", "MEMBER"]),
        joinedAt: z.date(),
        leftAt: z.date().nullable(),
        muted: z.boolean(),
      }),
      participants: z.array(z.object({ id: z.string(), name: z.string(), leftAt: z.date().nullable() })),
      messages: z.array(exportedMessage),
    }),
  ),
});
export type UserExport = z.infer<typeof userExportSchema>;

/**
 * `includeOthers`: the messages others wrote in the person's conversations while they
 * were a member. True for a person's own download; false for an admin's export, which
 * must not become a way to read conversations an admin is not in (see "Permissions").
 */
export async function exportUserData(prisma: Db, userId: string, { includeOthers = true } = {}): Promise<UserExport> {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { id: true, email: true, name: true, createdAt: true } });
  if (!user) throw new DomainError("NOT_FOUND", "That user does not exist.");
  const participations = await prisma.conversationParticipant.findMany({
    where: { userId },
    orderBy: { joinedAt: "asc" },
    select: {
      role: true,
      joinedAt: true,
      leftAt: true,
      muted: true,
      conversation: {
        select: {
          id: true,
          type: true,
          name: true,
          createdAt: true,
          participants: { select: { leftAt: true, user: { select: { id: true, name: true } } }, orderBy: { joinedAt: "asc" } },
        },
      },
    },
  });
  const visible = await prisma.$queryRaw<{ id: string }[]>`
    SELECT m.id FROM messages m
     WHERE m.sender_id = ${userId}::uuid
        OR ${includeOthers} AND EXISTS (
          SELECT 1 FROM events e JOIN conversation_memberships ms
              ON ms.conversation_id = e.conversation_id AND ms.user_id = ${userId}::uuid
           WHERE e.message_id = m.id AND e.type = 'message.created'
             AND e.id >= ms.joined_event_id AND (ms.left_event_id IS NULL OR e.id <= ms.left_event_id))`;
  const rows = await prisma.message.findMany({
    where: { id: { in: visible.map((row) => row.id) } },
    orderBy: [{ conversationId: "asc" }, { seq: "asc" }],
    select: {
      id: true,
      conversationId: true,
      seq: true,
      senderId: true,
      type: true,
      content: true,
      createdAt: true,
      editedAt: true,
      deletedAt: true,
      sender: { select: { name: true } },
      reactions: { select: { emoji: true, userId: true }, orderBy: { createdAt: "asc" } },
    },
  });
  const byConversation = new Map<string, UserExport["conversations"][number]["messages"]>();
  for (const row of rows) {
    const list = byConversation.get(row.conversationId) ?? [];
    const deleted = row.deletedAt !== null;
    list.push({
      id: row.id,
      seq: row.seq,
      senderId: row.senderId,
      senderName: row.sender?.name ?? null,
      type: row.type,
      content: deleted ? null : row.content,
      createdAt: row.createdAt,
      editedAt: row.editedAt,
      deletedAt: row.deletedAt,
      reactions: deleted ? [] : row.reactions,
    });
    byConversation.set(row.conversationId, list);
  }
  return {
    format: "chatline-export/1",
    exportedAt: new Date(),
    user,
    conversations: participations.map(({ conversation, role, joinedAt, leftAt, muted }) => ({
      id: conversation.id,
      type: conversation.type,
      name: conversation.name,
      createdAt: conversation.createdAt,
      membership: { role, joinedAt, leftAt, muted },
      participants: conversation.participants.map((p) => ({ id: p.user.id, name: p.user.name, leftAt: p.leftAt })),
      messages: byConversation.get(conversation.id) ?? [],
    })),
  };
}

/** An admin's export of someone's data (their own messages only), recorded in the audit log. */
export async function exportUserDataAsAdmin(
  prisma: Db,
  actor: { userId: string; ip: string | null; userAgent: string | null },
  targetUserId: string,
): Promise<UserExport> {
  const data = await exportUserData(prisma, targetUserId, { includeOthers: false });
  await recordAudit(prisma, {
    actorId: actor.userId,
    action: "user.exported",
    targetType: "user",
    targetId: targetUserId,
    ip: actor.ip,
    userAgent: actor.userAgent,
  });
  return data;
}

/** The file name of a download. */
export function exportFileName(now = new Date()): string {
  return `chatline-export-${now.toISOString().slice(0, 10)}.json`;
}
