import { recordAudit } from "~/features/audit/audit.service";
import type { SessionUser } from "~/features/auth/contracts";
import { receiptEvents } from "~/features/messages/receipts";
import { writeSystemMessage } from "~/features/messages/system-messages";
import { PERMISSIONS } from "~/features/permissions/catalog";
import { requireMessagingEnabled } from "~/features/settings/settings.service";
import { Prisma } from "~/generated/prisma/client";
import { DomainError } from "~/server/errors";
import type { NewEvent } from "~/server/realtime/event-store";
import { markConversationRead } from "~/features/notifications/notifications.service";
import { withEvents } from "~/server/realtime/transaction";
import type { ServiceDeps } from "~/server/service-deps";
import type { Conversation, CreateGroupInput, MemberPosition, Participant } from "./contracts";
import { requireMembership } from "./membership";

// Conversations: direct and group, their members, read positions and mute.
// Every change is written with its events in one transaction; the events are
// published after the commit.

/** The smaller id first, so both people compute the same key. */
export function directKeyOf(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

async function activeUsers(prisma: ServiceDeps["prisma"], ids: string[]): Promise<Participant[]> {
  return prisma.user.findMany({
    where: { id: { in: ids }, disabledAt: null },
    select: { id: true, name: true, image: true },
  });
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

function createdEvent(
  conversation: { id: string; type: "DIRECT" | "GROUP"; name: string | null; createdById: string | null; createdAt: Date },
  participants: Participant[],
): NewEvent {
  return {
    type: "conversation.created",
    conversationId: conversation.id,
    payload: {
      type: "conversation.created",
      conversation: { ...conversation, createdAt: conversation.createdAt.toISOString(), participants },
    },
  };
}

/** An audit entry by the caller, from where the call came; written in the change's transaction. */
function auditEntry(deps: ServiceDeps, user: SessionUser, conversationId: string) {
  return { actorId: user.id, conversationId, ip: deps.origin?.ip ?? null, userAgent: deps.origin?.userAgent ?? null };
}

function listNames(names: string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/**
 * The direct conversation between the caller and `recipientId`, created if there
 * is none. Two simultaneous calls converge on one row through the unique key.
 */
export async function createDirect(deps: ServiceDeps, user: SessionUser, recipientId: string): Promise<Conversation> {
  await requireMessagingEnabled(deps.prisma);
  if (recipientId === user.id) throw new DomainError("BAD_REQUEST", "Pick someone other than yourself.");
  const directKey = directKeyOf(user.id, recipientId);
  const existing = await deps.prisma.conversation.findUnique({ where: { directKey }, select: { id: true } });
  if (existing) return getConversation(deps, user.id, existing.id);

  const people = await activeUsers(deps.prisma, [user.id, recipientId]);
  if (!people.some((p) => p.id === recipientId)) throw new DomainError("NOT_FOUND", "That person does not exist.");
  try {
    const conversationId = await withEvents(deps, async (tx, append) => {
      const conversation = await tx.conversation.create({
        data: {
          type: "DIRECT",
          directKey,
          createdById: user.id,
          participants: { create: [{ userId: user.id }, { userId: recipientId }] },
          memberships: { create: [user.id, recipientId].map((userId) => ({ userId, joinedEventId: 0n })) },
        },
        select: { id: true, type: true, name: true, createdById: true, createdAt: true },
      });
      await recordAudit(tx, {
        ...auditEntry(deps, user, conversation.id),
        action: "conversation.created",
        targetType: "conversation",
        targetId: conversation.id,
        metadata: { type: "DIRECT", participantIds: [user.id, recipientId] },
      });
      await append([createdEvent(conversation, people)]);
      return conversation.id;
    });
    return getConversation(deps, user.id, conversationId);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const winner = await deps.prisma.conversation.findUniqueOrThrow({ where: { directKey }, select: { id: true } });
    return getConversation(deps, user.id, winner.id);
  }
}

export async function createGroup(deps: ServiceDeps, user: SessionUser, input: CreateGroupInput): Promise<Conversation> {
  const limits = await requireMessagingEnabled(deps.prisma);
  const others = [...new Set(input.participantIds)].filter((id) => id !== user.id);
  if (others.length === 0) throw new DomainError("BAD_REQUEST", "Pick at least one other person.");
  if (others.length + 1 > limits.maxGroupParticipants) {
    throw new DomainError("BAD_REQUEST", `A group has at most ${limits.maxGroupParticipants} people, you included.`);
  }
  const people = await activeUsers(deps.prisma, [user.id, ...others]);
  if (people.length !== others.length + 1) throw new DomainError("NOT_FOUND", "Some of those people do not exist.");
  const creator = people.find((p) => p.id === user.id)!;

  const conversationId = await withEvents(deps, async (tx, append) => {
    const conversation = await tx.conversation.create({
      data: {
        type: "GROUP",
        name: input.name,
        createdById: user.id,
        participants: { create: [{ userId: user.id, role: "OWNER" }, ...others.map((userId) => ({ userId }))] },
        memberships: { create: [user.id, ...others].map((userId) => ({ userId, joinedEventId: 0n })) },
      },
      select: { id: true, type: true, name: true, createdById: true, createdAt: true },
    });
    const systemMessage = await writeSystemMessage(tx, conversation.id, `${creator.name} created the group "${input.name}"`, {
      kind: "group_created",
      actorId: user.id,
      name: input.name,
    });
    await recordAudit(tx, {
      ...auditEntry(deps, user, conversation.id),
      action: "conversation.created",
      targetType: "conversation",
      targetId: conversation.id,
      metadata: { type: "GROUP", name: input.name, participantIds: [user.id, ...others] },
    });
    await append([createdEvent(conversation, people), systemMessage]);
    return conversation.id;
  });
  return getConversation(deps, user.id, conversationId);
}

/**
 * Locks the conversation row: membership changes of one conversation (and its
 * sends) queue here. Every transaction takes its locks in one order, conversation,
 * then participant rows, then the event counter (appended last), so none deadlock.
 */
async function lockConversation(tx: Prisma.TransactionClient, conversationId: string) {
  const [row] = await tx.$queryRaw<{ type: "DIRECT" | "GROUP"; created_by_id: string | null; last_seq: number }[]>`
    SELECT type::text AS type, created_by_id, last_seq FROM conversations WHERE id = ${conversationId}::uuid FOR UPDATE`;
  if (!row) throw new DomainError("NOT_FOUND", "That conversation does not exist.");
  return row;
}

export async function addParticipants(
  deps: ServiceDeps,
  user: SessionUser,
  input: { conversationId: string; userIds: string[] },
): Promise<Conversation> {
  const limits = await requireMessagingEnabled(deps.prisma);
  await requireMembership(deps.prisma, input.conversationId, user.id);
  const candidates = await activeUsers(deps.prisma, [...new Set(input.userIds)]);
  if (candidates.length !== new Set(input.userIds).size) throw new DomainError("NOT_FOUND", "Some of those people do not exist.");

  await withEvents(deps, async (tx, append) => {
    const conversation = await lockConversation(tx, input.conversationId);
    // Checked again under the lock: a concurrent add or removal has committed by now.
    await requireMembership(tx, input.conversationId, user.id);
    if (conversation.type !== "GROUP") {
      throw new DomainError("BAD_REQUEST", "People can only be added to a group. Start a group with them instead.");
    }
    const current = await tx.conversationParticipant.findMany({
      where: { conversationId: input.conversationId, leftAt: null },
      select: { userId: true },
    });
    const currentIds = new Set(current.map((p) => p.userId));
    const added = candidates.filter((person) => !currentIds.has(person.id)).sort((x, y) => (x.id < y.id ? -1 : 1));
    if (added.length === 0) return;
    if (currentIds.size + added.length > limits.maxGroupParticipants) {
      throw new DomainError("BAD_REQUEST", `A group has at most ${limits.maxGroupParticipants} people.`);
    }
    for (const person of added) {
      // New members start with the history read: only what comes next is unread for them.
      await tx.conversationParticipant.upsert({
        where: { conversationId_userId: { conversationId: input.conversationId, userId: person.id } },
        create: {
          conversationId: input.conversationId,
          userId: person.id,
          lastReadSeq: conversation.last_seq,
          lastDeliveredSeq: conversation.last_seq,
        },
        update: {
          leftAt: null,
          joinedAt: new Date(),
          muted: false,
          lastReadSeq: conversation.last_seq,
          lastDeliveredSeq: conversation.last_seq,
        },
      });
    }
    const systemMessage = await writeSystemMessage(
      tx,
      input.conversationId,
      `${user.name} added ${listNames(added.map((p) => p.name))}`,
      { kind: "members_added", actorId: user.id, userIds: added.map((p) => p.id) },
    );
    await recordAudit(tx, {
      ...auditEntry(deps, user, input.conversationId),
      action: "conversation.participants_added",
      targetType: "conversation",
      targetId: input.conversationId,
      metadata: { userIds: added.map((p) => p.id) },
    });
    const [joined] = await append([
      {
        type: "conversation.members_added",
        conversationId: input.conversationId,
        payload: { type: "conversation.members_added", conversationId: input.conversationId, participants: added },
      },
      systemMessage,
    ]);
    await tx.conversationMembership.createMany({
      data: added.map((person) => ({
        conversationId: input.conversationId,
        userId: person.id,
        joinedEventId: BigInt(joined!.id),
      })),
    });
  });
  return getConversation(deps, user.id, input.conversationId);
}

/**
 * Removes a member: yourself (leaving), or anyone if you created the group or
 * moderate messaging. The removed member receives the removal, then nothing more.
 */
export async function removeParticipant(
  deps: ServiceDeps,
  user: SessionUser,
  input: { conversationId: string; userId: string },
): Promise<{ ok: true }> {
  await requireMessagingEnabled(deps.prisma);
  const isModerator = user.permissions.includes(PERMISSIONS.messagingAdmin);
  const leaving = input.userId === user.id;
  // A moderator may act on conversations they are not in; anyone else must be a member.
  if (!isModerator) await requireMembership(deps.prisma, input.conversationId, user.id);

  await withEvents(deps, async (tx, append) => {
    const conversation = await lockConversation(tx, input.conversationId);
    if (!isModerator) await requireMembership(tx, input.conversationId, user.id);
    if (conversation.type !== "GROUP") {
      throw new DomainError("BAD_REQUEST", "A direct conversation has no members to remove. Mute it instead.");
    }
    if (!leaving && !isModerator && conversation.created_by_id !== user.id) {
      throw new DomainError("FORBIDDEN", "Only the group's creator or a moderator can remove people.");
    }
    const [target] = await tx.$queryRaw<{ name: string }[]>`
      UPDATE conversation_participants p SET left_at = now()
        FROM users u
       WHERE p.conversation_id = ${input.conversationId}::uuid AND p.user_id = ${input.userId}::uuid
         AND p.left_at IS NULL AND u.id = p.user_id
       RETURNING u.name`;
    if (!target) throw new DomainError("NOT_FOUND", "That person is not in this conversation.");
    const content = leaving ? `${target.name} left` : `${user.name} removed ${target.name}`;
    const systemMessage = await writeSystemMessage(tx, input.conversationId, content, {
      kind: leaving ? "member_left" : "member_removed",
      actorId: user.id,
      userId: input.userId,
    });
    await recordAudit(tx, {
      ...auditEntry(deps, user, input.conversationId),
      action: "conversation.participant_removed",
      targetType: "user",
      targetId: input.userId,
      // Who could do it: the member leaving, the group's creator, or a moderator acting as one.
      metadata: { by: leaving ? "self" : conversation.created_by_id === user.id ? "creator" : "moderator" },
    });
    const [, removed] = await append([
      systemMessage,
      {
        type: "conversation.member_removed",
        conversationId: input.conversationId,
        payload: { type: "conversation.member_removed", conversationId: input.conversationId, userId: input.userId },
      },
    ]);
    await tx.conversationMembership.updateMany({
      where: { conversationId: input.conversationId, userId: input.userId, leftEventId: null },
      data: { leftEventId: BigInt(removed!.id) },
    });
  });
  return { ok: true };
}

export async function setMuted(
  deps: ServiceDeps,
  user: SessionUser,
  input: { conversationId: string; muted: boolean },
): Promise<{ ok: true }> {
  await requireMembership(deps.prisma, input.conversationId, user.id);
  await withEvents(deps, async (tx, append) => {
    await tx.conversationParticipant.update({
      where: { conversationId_userId: { conversationId: input.conversationId, userId: user.id } },
      data: { muted: input.muted },
    });
    // The user's other tabs and devices follow.
    await append([
      {
        type: "conversation.muted",
        conversationId: input.conversationId,
        userId: user.id,
        payload: { type: "conversation.muted", conversationId: input.conversationId, muted: input.muted },
      },
    ]);
  });
  return { ok: true };
}

/**
 * Moves the caller's read position forward to `upToSeq` (never back, never past
 * the newest message). Members see the receipt live; the position also counts
 * as delivered.
 */
export async function markAsRead(
  deps: ServiceDeps,
  user: SessionUser,
  input: { conversationId: string; upToSeq: number },
): Promise<{ lastReadSeq: number; unreadCount: number }> {
  const membership = await requireMembership(deps.prisma, input.conversationId, user.id);
  const target = Math.min(input.upToSeq, membership.conversation.lastSeq);
  if (target > membership.lastReadSeq) {
    await withEvents(deps, async (tx, append) => {
      const [moved] = await tx.$queryRaw<{ previous_seq: number; last_read_at: Date }[]>`
        UPDATE conversation_participants p
           SET last_read_seq = ${target}, last_read_at = now(),
               last_delivered_seq = GREATEST(p.last_delivered_seq, ${target}),
               last_delivered_at = CASE WHEN p.last_delivered_seq < ${target} THEN now() ELSE p.last_delivered_at END
          FROM (SELECT last_read_seq FROM conversation_participants
                 WHERE conversation_id = ${input.conversationId}::uuid AND user_id = ${user.id}::uuid FOR UPDATE) previous
         WHERE p.conversation_id = ${input.conversationId}::uuid AND p.user_id = ${user.id}::uuid AND p.last_read_seq < ${target}
         RETURNING previous.last_read_seq AS previous_seq, p.last_read_at`;
      if (!moved) return;
      await tx.messageReceipt.create({
        data: { conversationId: input.conversationId, userId: user.id, kind: "READ", upToSeq: target, at: moved.last_read_at },
      });
      await append(
        await receiptEvents(tx, [
          {
            conversationId: input.conversationId,
            userId: user.id,
            status: "READ",
            previousSeq: moved.previous_seq,
            upToSeq: target,
            at: moved.last_read_at,
          },
        ]),
      );
      // Notifications of what is now read are read too.
      await markConversationRead(tx, append, user.id, input.conversationId, target);
    });
  }
  const conversation = await getConversation(deps, user.id, input.conversationId);
  return { lastReadSeq: conversation.lastReadSeq, unreadCount: conversation.unreadCount };
}

// ───────────────────────────── reads ─────────────────────────────

/** Unread = others' text messages after the read position; counting stops here. */
const UNREAD_COUNT_CAP = 999;

interface ConversationRow {
  id: string;
  type: "DIRECT" | "GROUP";
  name: string | null;
  created_by_id: string | null;
  last_seq: number;
  last_message_at: Date | null;
  last_message_preview: string | null;
  last_message_sender_id: string | null;
  created_at: Date;
  activity_at: Date;
  last_read_seq: number;
  muted: boolean;
  unread: number;
}

async function queryConversations(
  deps: ServiceDeps,
  userId: string,
  filter: { conversationIds?: string[]; before?: { at: Date; id: string }; limit: number; mutedOnly?: boolean },
): Promise<ConversationRow[]> {
  const byId = filter.conversationIds ? Prisma.sql`AND c.id = ANY(${filter.conversationIds}::uuid[])` : Prisma.empty;
  const muted = filter.mutedOnly ? Prisma.sql`AND p.muted` : Prisma.empty;
  const after = filter.before
    ? Prisma.sql`AND (COALESCE(c.last_message_at, c.created_at), c.id) < (${filter.before.at}, ${filter.before.id}::uuid)`
    : Prisma.empty;
  return deps.prisma.$queryRaw<ConversationRow[]>`
    SELECT c.id, c.type::text AS type, c.name, c.created_by_id, c.last_seq, c.last_message_at, c.last_message_preview,
           c.last_message_sender_id, c.created_at, COALESCE(c.last_message_at, c.created_at) AS activity_at,
           p.last_read_seq, p.muted,
           (SELECT count(*) FROM (
              SELECT 1 FROM messages m
               WHERE m.conversation_id = c.id AND m.seq > p.last_read_seq AND m.type = 'TEXT'
                 AND m.deleted_at IS NULL AND m.sender_id IS DISTINCT FROM p.user_id
               LIMIT ${UNREAD_COUNT_CAP}) unread_rows)::int AS unread
      FROM conversation_participants p
      JOIN conversations c ON c.id = p.conversation_id
     WHERE p.user_id = ${userId}::uuid AND p.left_at IS NULL ${byId} ${muted} ${after}
     ORDER BY activity_at DESC, c.id DESC
     LIMIT ${filter.limit}`;
}

/**
 * The members of `rows` in one statement: through Prisma's relation loading it was
 * two round trips, the second an IN list of every member of every conversation
 * (420 parameters for a page of large groups).
 */
async function withParticipants(deps: ServiceDeps, rows: ConversationRow[]): Promise<Conversation[]> {
  const members = rows.length
    ? await deps.prisma.$queryRaw<
        { conversation_id: string; id: string; name: string; image: string | null; last_delivered_seq: number; last_read_seq: number }[]
      >`
        SELECT p.conversation_id, u.id, u.name, u.image, p.last_delivered_seq, p.last_read_seq
          FROM conversation_participants p
          JOIN users u ON u.id = p.user_id
         WHERE p.conversation_id = ANY(${rows.map((row) => row.id)}::uuid[]) AND p.left_at IS NULL
         ORDER BY p.joined_at`
    : [];
  const byConversation = new Map<string, { participants: Participant[]; positions: MemberPosition[] }>();
  for (const member of members) {
    const entry = byConversation.get(member.conversation_id) ?? { participants: [], positions: [] };
    entry.participants.push({ id: member.id, name: member.name, image: member.image });
    entry.positions.push({ userId: member.id, lastDeliveredSeq: member.last_delivered_seq, lastReadSeq: member.last_read_seq });
    byConversation.set(member.conversation_id, entry);
  }
  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    name: row.name,
    createdById: row.created_by_id,
    participants: byConversation.get(row.id)?.participants ?? [],
    positions: byConversation.get(row.id)?.positions ?? [],
    lastMessage:
      row.last_message_preview === null ? null : { senderId: row.last_message_sender_id, preview: row.last_message_preview },
    lastMessageAt: row.last_message_at,
    lastSeq: row.last_seq,
    lastReadSeq: row.last_read_seq,
    unreadCount: row.unread,
    muted: row.muted,
    createdAt: row.created_at,
  }));
}

export async function getConversation(deps: ServiceDeps, userId: string, conversationId: string): Promise<Conversation> {
  const [row] = await queryConversations(deps, userId, { conversationIds: [conversationId], limit: 1 });
  if (!row) throw new DomainError("NOT_FOUND", "That conversation does not exist.");
  const [conversation] = await withParticipants(deps, [row]);
  return conversation!;
}

function encodeCursor(row: ConversationRow): string {
  return Buffer.from(`${row.activity_at.toISOString()}|${row.id}`).toString("base64url");
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const date = new Date(at ?? "");
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(date.getTime())) {
    throw new DomainError("BAD_REQUEST", "That page cursor is not valid.");
  }
  return { at: date, id };
}

/** The caller's conversations, newest activity first. */
export async function listConversations(
  deps: ServiceDeps,
  userId: string,
  input: { cursor?: string | null; limit: number; mutedOnly?: boolean },
): Promise<{ items: Conversation[]; nextCursor: string | null }> {
  const rows = await queryConversations(deps, userId, {
    before: input.cursor ? decodeCursor(input.cursor) : undefined,
    limit: input.limit + 1,
    mutedOnly: input.mutedOnly,
  });
  const page = rows.slice(0, input.limit);
  return {
    items: await withParticipants(deps, page),
    nextCursor: rows.length > input.limit ? encodeCursor(page[page.length - 1]!) : null,
  };
}

/** Total unread over the caller's conversations that are not muted. */
export async function unreadTotal(deps: ServiceDeps, userId: string): Promise<{ total: number }> {
  const [row] = await deps.prisma.$queryRaw<{ total: number }[]>`
    SELECT COALESCE(sum((
      SELECT count(*) FROM (
        SELECT 1 FROM messages m
         WHERE m.conversation_id = p.conversation_id AND m.seq > p.last_read_seq AND m.type = 'TEXT'
           AND m.deleted_at IS NULL AND m.sender_id IS DISTINCT FROM p.user_id
         LIMIT ${UNREAD_COUNT_CAP}) unread_rows)), 0)::int AS total
      FROM conversation_participants p
     WHERE p.user_id = ${userId}::uuid AND p.left_at IS NULL AND NOT p.muted`;
  return { total: row?.total ?? 0 };
}

/** The caller's conversations among `ids`, in the order of `ids` (ids they are not in are left out). */
export async function conversationsInOrder(deps: ServiceDeps, userId: string, ids: string[]): Promise<Conversation[]> {
  if (ids.length === 0) return [];
  const rows = await queryConversations(deps, userId, { conversationIds: ids, limit: ids.length });
  const position = new Map(ids.map((id, index) => [id, index]));
  rows.sort((a, b) => position.get(a.id)! - position.get(b.id)!);
  return withParticipants(deps, rows);
}
