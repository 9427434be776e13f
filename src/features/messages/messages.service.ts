import { forgetDeletedMessage, reviseQuotedMessage } from "~/features/notifications/notifications.service";
import { recordAudit } from "~/features/audit/audit.service";
import type { SessionUser } from "~/features/auth/contracts";
import { requireMembership } from "~/features/conversations/membership";
import { PERMISSIONS } from "~/features/permissions/catalog";
import { instanceActivity } from "~/features/ops/activity";
import { requireMessagingEnabled } from "~/features/settings/settings.service";
import { Prisma } from "~/generated/prisma/client";
import { DomainError } from "~/server/errors";
import { metrics } from "~/server/metrics";
import { refundMessageWrite, retryIn, takeUserCall, type MessageWrite } from "~/server/rate-limits";
import { withEvents } from "~/server/realtime/transaction";
import type { ServiceDeps } from "~/server/service-deps";
import { attachmentsForSend, deleteMessageAttachments, deleteStoredFilesSoon } from "~/features/attachments/attachments.service";
import type { Attachment } from "~/features/attachments/contracts";
import { ATTACHMENTS_TURNED_OFF } from "~/features/attachments/file-acceptance";
import { attachmentRuntime } from "~/features/attachments/runtime";
import type { Message, SendMessageInput } from "./contracts";
import { messageEvent, messageSelect, summarizeReactions, toMessage } from "./message-mapper";
import { messageWriter } from "./message-writer";

// Sending, reading, editing, deleting and reacting to messages. A message's seq
// is taken from its conversation's counter in the transaction that stores it,
// so seqs are gap-free and strictly increasing; (sender, clientMessageId) is
// unique, so a retry returns the original message instead of a second one.

/** A unique key refused the write: P2002 from Prisma, SQLSTATE 23505 from the writer's pg statement. */
function isUniqueViolation(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) return error.code === "P2002";
  return (error as { code?: unknown } | null)?.code === "23505";
}

async function findByClientMessageId(deps: ServiceDeps, senderId: string, clientMessageId: string) {
  const row = await deps.prisma.message.findUnique({
    where: { senderId_clientMessageId: { senderId, clientMessageId } },
    select: messageSelect,
  });
  return row ? toMessage(row) : null;
}

const TOO_FAST: Record<MessageWrite, string> = {
  send: "You are sending messages too fast.",
  edit: "You are editing messages too fast.",
  react: "You are reacting too fast.",
};

function tooFast(kind: MessageWrite, retryAfterMs: number): DomainError {
  return new DomainError("TOO_MANY_REQUESTS", `${TOO_FAST[kind]} Try again in ${retryIn(retryAfterMs)}.`, { retryAfterMs });
}

/** Counts an edit or a reaction against the settings' per-minute limit (its own count; sends have theirs). */
async function takeWrite(kind: MessageWrite, userId: string, perMinute: number): Promise<void> {
  const retryAfterMs = await takeUserCall(kind, userId, perMinute);
  if (retryAfterMs > 0) throw tooFast(kind, retryAfterMs);
}

function sameSend(original: Message, input: SendMessageInput): Message {
  if (original.conversationId !== input.conversationId) {
    throw new DomainError("CONFLICT", "That client message id was already used for another conversation.");
  }
  return original;
}

export async function sendMessage(deps: ServiceDeps, user: SessionUser, input: SendMessageInput): Promise<Message> {
  const limits = await requireMessagingEnabled(deps.prisma);
  if (input.content.length > limits.maxMessageLength) {
    throw new DomainError("BAD_REQUEST", `Messages are at most ${limits.maxMessageLength} characters.`);
  }
  const attachmentIds = input.attachmentIds ?? [];
  let attachments: Attachment[] = [];
  if (attachmentIds.length > 0) {
    // A retry of a send that was stored finds its files already claimed (by it): it gets the original.
    const stored = await findByClientMessageId(deps, user.id, input.clientMessageId);
    if (stored) return sameSend(stored, input);
    if (!limits.allowFileAttachments) throw new DomainError("FORBIDDEN", ATTACHMENTS_TURNED_OFF);
    attachments = await attachmentsForSend(deps.prisma, user.id, input.conversationId, attachmentIds);
  }
  // The send limit: one store call. Refused, a retry of a message already stored
  // still gets it (the one look-up, only on this path); it is never charged.
  const retryAfterMs = await takeUserCall("send", user.id, limits.rateLimitPerMinute);
  if (retryAfterMs > 0) {
    const stored = await findByClientMessageId(deps, user.id, input.clientMessageId);
    if (stored) return sameSend(stored, input);
    throw tooFast("send", retryAfterMs);
  }
  // No look-ups before the write: a retry is recognised by its (sender, client id),
  // and membership is checked on the locked participant row (message-writer.ts).
  let sent: Message | null;
  try {
    sent = await messageWriter(deps).write({
      senderId: user.id,
      conversationId: input.conversationId,
      clientMessageId: input.clientMessageId,
      content: input.content,
      attachments,
    });
  } catch (error) {
    // A concurrent retry with the same key won: answer with its message.
    if (!isUniqueViolation(error)) throw error;
    sent = null;
  }
  if (sent) {
    metrics().messagesSent.inc();
    instanceActivity().noteMessage(sent.conversationId);
    return sent;
  }
  // Nothing stored: a repeat of a stored send gets the original, uncharged; anyone else is not a member.
  const original = await findByClientMessageId(deps, user.id, input.clientMessageId);
  if (!original) {
    // A member whose files were claimed by another send in the meantime (or deleted) is told so.
    if (attachments.length > 0) await attachmentsForSend(deps.prisma, user.id, input.conversationId, attachmentIds);
    throw new DomainError("NOT_FOUND", "That conversation does not exist.");
  }
  await refundMessageWrite("send", user.id).catch(() => undefined);
  return sameSend(original, input);
}

/** A row of listMessages' statement: a message of the page with its conversation's last seq (no message: an empty history). */
interface PageRow {
  last_seq: number;
  id: string | null;
  conversation_id: string;
  seq: number;
  sender_id: string | null;
  type: "TEXT" | "SYSTEM";
  content: string;
  metadata: Prisma.JsonValue | null;
  client_message_id: string | null;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
  sender_user_id: string | null;
  sender_name: string | null;
  sender_image: string | null;
  reactions: { emoji: string; userId: string; createdAt: string }[];
}

/**
 * A page of a conversation's history by seq: the newest `limit` messages, or
 * those just before `beforeSeq`, or just after `afterSeq`, or around `aroundSeq`
 * (half before it, the rest from it on: a search result opens there). Oldest first.
 * One statement (membership, page, senders, reactions): a page was five round
 * trips through Prisma, and their cost, not the keyset scan, was most of its time.
 */
export async function listMessages(
  deps: ServiceDeps,
  user: SessionUser,
  input: { conversationId: string; beforeSeq?: number; afterSeq?: number; aroundSeq?: number; limit: number },
): Promise<{ items: Message[]; hasMoreBefore: boolean; hasMoreAfter: boolean }> {
  await requireMessagingEnabled(deps.prisma);
  const forward = input.afterSeq !== undefined;
  const around = input.aroundSeq;
  // The page's columns (not m.*: the stored search words would be carried along for nothing).
  const pageColumns = Prisma.sql`m.id, m.conversation_id, m.seq, m.sender_id, m.type, m.content, m.metadata, m.client_message_id,
    m.created_at, m.edited_at, m.deleted_at`;
  // Around a seq: a keyset scan each way, each as long as the page plus one (near
  // either end of the history the other side fills the page; the extra row tells
  // whether more lies beyond).
  const pageScan =
    around !== undefined
      ? Prisma.sql`
        (SELECT ${pageColumns} FROM messages m WHERE m.conversation_id = p.conversation_id AND m.seq < ${around}
          ORDER BY m.seq DESC LIMIT ${input.limit + 1})
        UNION ALL
        (SELECT ${pageColumns} FROM messages m WHERE m.conversation_id = p.conversation_id AND m.seq >= ${around}
          ORDER BY m.seq ASC LIMIT ${input.limit + 1})`
      : Prisma.sql`
        SELECT ${pageColumns} FROM messages m
         WHERE m.conversation_id = p.conversation_id ${
           forward
             ? Prisma.sql`AND m.seq > ${input.afterSeq}`
             : input.beforeSeq !== undefined
               ? Prisma.sql`AND m.seq < ${input.beforeSeq}`
               : Prisma.empty
         }
         ORDER BY ${forward ? Prisma.sql`m.seq ASC` : Prisma.sql`m.seq DESC`}
         LIMIT ${input.limit + 1}`;
  const order = forward || around !== undefined ? Prisma.sql`m.seq ASC` : Prisma.sql`m.seq DESC`;
  const rows = await deps.prisma.$queryRaw<PageRow[]>`
    SELECT c.last_seq, m.id, m.conversation_id, m.seq, m.sender_id, m.type::text AS type, m.content, m.metadata,
           m.client_message_id, m.created_at, m.edited_at, m.deleted_at,
           u.id AS sender_user_id, u.name AS sender_name, u.image AS sender_image,
           COALESCE((SELECT json_agg(json_build_object('emoji', r.emoji, 'userId', r.user_id, 'createdAt', r.created_at) ORDER BY r.created_at)
                       FROM reactions r WHERE r.message_id = m.id), '[]'::json) AS reactions
      FROM conversation_participants p
      JOIN conversations c ON c.id = p.conversation_id
      LEFT JOIN LATERAL (${pageScan}) m ON true
      LEFT JOIN users u ON u.id = m.sender_id
     WHERE p.conversation_id = ${input.conversationId}::uuid AND p.user_id = ${user.id}::uuid AND p.left_at IS NULL
     ORDER BY ${order}`;
  // No row: not a member, or no such conversation; neither is told apart from the other.
  const lastSeq = rows[0]?.last_seq;
  if (lastSeq === undefined) throw new DomainError("NOT_FOUND", "That conversation does not exist.");
  const messages = rows.filter((row) => row.id !== null);
  let page: PageRow[];
  let hasMoreBefore: boolean | undefined;
  let hasMoreAfter: boolean | undefined;
  if (around !== undefined) {
    const before = messages.filter((row) => row.seq < around);
    const after = messages.filter((row) => row.seq >= around);
    const takeBefore = Math.min(before.length, Math.max(Math.floor(input.limit / 2), input.limit - after.length));
    const takeAfter = Math.min(after.length, input.limit - takeBefore);
    hasMoreBefore = before.length > takeBefore;
    hasMoreAfter = after.length > takeAfter;
    page = [...before.slice(before.length - takeBefore), ...after.slice(0, takeAfter)];
  } else {
    const more = messages.length > input.limit;
    page = messages.slice(0, input.limit);
    if (!forward) page.reverse();
    if (forward) hasMoreAfter = more;
    else hasMoreBefore = more;
  }
  const items = page.map((row) =>
    toMessage({
      id: row.id!,
      conversationId: row.conversation_id,
      seq: row.seq,
      senderId: row.sender_id,
      type: row.type,
      content: row.content,
      metadata: row.metadata,
      clientMessageId: row.client_message_id,
      createdAt: row.created_at,
      editedAt: row.edited_at,
      deletedAt: row.deleted_at,
      sender: row.sender_user_id === null ? null : { name: row.sender_name!, image: row.sender_image },
      reactions: row.reactions.map((reaction) => ({ ...reaction, createdAt: new Date(reaction.createdAt) })),
    }),
  );
  const first = items[0]?.seq;
  const last = items[items.length - 1]?.seq;
  return {
    items,
    hasMoreBefore: hasMoreBefore ?? (first !== undefined && first > 1),
    hasMoreAfter: hasMoreAfter ?? (last !== undefined && last < lastSeq),
  };
}

async function loadMessageForMember(deps: ServiceDeps, user: SessionUser, messageId: string) {
  const row = await deps.prisma.message.findUnique({ where: { id: messageId }, select: messageSelect });
  if (!row) throw new DomainError("NOT_FOUND", "That message does not exist.");
  await requireMembership(deps.prisma, row.conversationId, user.id).catch(() => {
    throw new DomainError("NOT_FOUND", "That message does not exist.");
  });
  return row;
}

export async function editMessage(
  deps: ServiceDeps,
  user: SessionUser,
  input: { messageId: string; content: string },
): Promise<Message> {
  const limits = await requireMessagingEnabled(deps.prisma);
  await takeWrite("edit", user.id, limits.rateLimitPerMinute);
  const row = await loadMessageForMember(deps, user, input.messageId);
  if (row.senderId !== user.id || row.type !== "TEXT") throw new DomainError("FORBIDDEN", "You can only edit your own messages.");
  if (row.deletedAt) throw new DomainError("BAD_REQUEST", "A deleted message cannot be edited.");
  if (input.content.length > limits.maxMessageLength) {
    throw new DomainError("BAD_REQUEST", `Messages are at most ${limits.maxMessageLength} characters.`);
  }
  if (input.content === row.content) return toMessage(row);
  return withEvents(deps, async (tx, append) => {
    const updated = await tx.message.update({
      where: { id: input.messageId },
      data: { content: input.content, editedAt: new Date() },
      select: messageSelect,
    });
    const message = toMessage(updated);
    await append([messageEvent("message.updated", message)]);
    await reviseQuotedMessage(tx, append, { ...message, content: input.content });
    return message;
  });
}

/**
 * Soft-deletes a message (your own, or any as a moderator). Its content stops
 * being served at once, including from the stored events that carried it.
 */
export async function deleteMessage(deps: ServiceDeps, user: SessionUser, input: { messageId: string }): Promise<{ ok: true }> {
  await requireMessagingEnabled(deps.prisma);
  const isModerator = user.permissions.includes(PERMISSIONS.messagingAdmin);
  const row = isModerator
    ? await deps.prisma.message.findUnique({ where: { id: input.messageId }, select: messageSelect })
    : await loadMessageForMember(deps, user, input.messageId);
  if (!row) throw new DomainError("NOT_FOUND", "That message does not exist.");
  if (row.senderId !== user.id && !isModerator) throw new DomainError("FORBIDDEN", "You can only delete your own messages.");
  if (row.type !== "TEXT") throw new DomainError("BAD_REQUEST", "System messages cannot be deleted.");
  if (row.deletedAt) return { ok: true };
  const storedFiles = await withEvents(deps, async (tx, append) => {
    // The row keeps its content for moderation; nothing serves it any more.
    await tx.message.update({ where: { id: row.id }, data: { deletedAt: new Date(), deletedById: user.id } });
    await tx.conversation.updateMany({
      where: { id: row.conversationId, lastSeq: row.seq },
      data: { lastMessagePreview: "This message was deleted" },
    });
    await tx.reaction.deleteMany({ where: { messageId: row.id } });
    // Replayed events must not bring the content back.
    await tx.$executeRaw`
      UPDATE events SET payload = jsonb_set(jsonb_set(payload, '{message,content}', 'null'), '{message,metadata}', 'null')
       WHERE message_id = ${row.id}::uuid AND payload ? 'message'`;
    await forgetDeletedMessage(tx, append, row.id);
    // A moderator deleting someone else's message is audited; people deleting their own are not.
    if (row.senderId !== user.id) {
      await recordAudit(tx, {
        actorId: user.id,
        action: "message.deleted_by_admin",
        targetType: "message",
        targetId: row.id,
        conversationId: row.conversationId,
        metadata: { senderId: row.senderId, seq: row.seq },
        ip: deps.origin?.ip ?? null,
        userAgent: deps.origin?.userAgent ?? null,
      });
    }
    await append([
      {
        type: "message.deleted",
        conversationId: row.conversationId,
        messageId: row.id,
        payload: { type: "message.deleted", conversationId: row.conversationId, messageId: row.id, seq: row.seq },
      },
    ]);
    // Its files go too: the rows now (nobody is served them), the stored bytes once this commits.
    return deleteMessageAttachments(tx, row.id);
  });
  deleteStoredFilesSoon({ prisma: deps.prisma, storage: attachmentRuntime()?.storage ?? null }, storedFiles);
  return { ok: true };
}

/** Adds the caller's reaction, or takes it back if it is there. */
export async function toggleReaction(
  deps: ServiceDeps,
  user: SessionUser,
  input: { messageId: string; emoji: string },
): Promise<Message> {
  const limits = await requireMessagingEnabled(deps.prisma);
  await takeWrite("react", user.id, limits.rateLimitPerMinute);
  const row = await loadMessageForMember(deps, user, input.messageId);
  if (row.deletedAt) throw new DomainError("BAD_REQUEST", "A deleted message cannot get reactions.");
  return withEvents(deps, async (tx, append) => {
    const removed = await tx.reaction.deleteMany({ where: { messageId: row.id, userId: user.id, emoji: input.emoji } });
    if (removed.count === 0) {
      await tx.reaction.create({ data: { messageId: row.id, userId: user.id, emoji: input.emoji } });
    }
    const reactions = await tx.reaction.findMany({
      where: { messageId: row.id },
      select: { emoji: true, userId: true },
      orderBy: { createdAt: "asc" },
    });
    const summary = summarizeReactions(reactions);
    await append([
      {
        type: "reaction.updated",
        conversationId: row.conversationId,
        messageId: row.id,
        payload: { type: "reaction.updated", conversationId: row.conversationId, messageId: row.id, reactions: summary },
      },
    ]);
    return { ...toMessage(row), reactions: summary };
  });
}

/**
 * Per recipient: SENT, DELIVERED (a client of theirs received it) or READ, with
 * the times, from the members' positions and the receipts that moved them. For
 * the sender and moderators.
 */
export async function messageStatuses(deps: ServiceDeps, user: SessionUser, input: { messageId: string }) {
  const isModerator = user.permissions.includes(PERMISSIONS.messagingAdmin);
  const row = isModerator
    ? await deps.prisma.message.findUnique({ where: { id: input.messageId }, select: messageSelect })
    : await loadMessageForMember(deps, user, input.messageId);
  if (!row) throw new DomainError("NOT_FOUND", "That message does not exist.");
  if (row.senderId !== user.id && !isModerator) throw new DomainError("FORBIDDEN", "Only the sender sees who received a message.");
  const members = await deps.prisma.conversationParticipant.findMany({
    where: { conversationId: row.conversationId, leftAt: null, userId: row.senderId ? { not: row.senderId } : undefined },
    select: { userId: true, lastDeliveredSeq: true, lastReadSeq: true, user: { select: { name: true } } },
    orderBy: { joinedAt: "asc" },
  });
  const firstReceipts = await deps.prisma.$queryRaw<{ user_id: string; kind: "DELIVERED" | "READ"; at: Date }[]>`
    SELECT DISTINCT ON (user_id, kind) user_id, kind::text AS kind, at
      FROM message_receipts
     WHERE conversation_id = ${row.conversationId}::uuid AND up_to_seq >= ${row.seq}
     ORDER BY user_id, kind, up_to_seq ASC, at ASC`;
  const receiptAt = (userId: string, kind: "DELIVERED" | "READ") =>
    firstReceipts.find((receipt) => receipt.user_id === userId && receipt.kind === kind)?.at ?? null;
  return {
    messageId: row.id,
    recipients: members.map((member) => {
      const readAt = member.lastReadSeq >= row.seq ? receiptAt(member.userId, "READ") : null;
      const delivered = member.lastDeliveredSeq >= row.seq || member.lastReadSeq >= row.seq;
      return {
        userId: member.userId,
        name: member.user.name,
        status: member.lastReadSeq >= row.seq ? ("READ" as const) : delivered ? ("DELIVERED" as const) : ("SENT" as const),
        // Reading counts as delivery; its time stands in when no delivery was recorded first.
        deliveredAt: delivered ? (receiptAt(member.userId, "DELIVERED") ?? readAt) : null,
        readAt,
      };
    }),
  };
}
