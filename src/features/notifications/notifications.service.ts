import { recordAudit } from "~/features/audit/audit.service";
import { getMessagingLimits } from "~/features/settings/settings.service";
import type { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";
import { DomainError } from "~/server/errors";
import type { AppendEvents } from "~/server/realtime/transaction";
import { withEvents } from "~/server/realtime/transaction";
import type { ServiceDeps } from "~/server/service-deps";
import type {
  AppNotification,
  ListNotificationsInput,
  NotificationCategory,
  NotificationPreferences,
  PreferencesOutput,
  UpdatePreferencesInput,
} from "./contracts";
import { enqueueJobs } from "./jobs";
import { previewBody } from "./preview-text";
import { doNotDisturbOf } from "./rules";
import { notificationColumns, toNotification, upsertedEvent, type NotificationRow } from "./notification-rows";

// The notification centre: a person's bell (list, unread count, read, delete),
// their preferences, their browsers' push subscriptions, and the admins'
// announcements. Every change to the bell is also an event on the owner's
// stream, so their other tabs and devices follow.

/** Which channels this server can use at all, and the key browsers subscribe with. */
export interface NotificationChannels {
  email: boolean;
  push: boolean;
  vapidPublicKey: string | null;
  /** Hosts (and their subdomains) push endpoints may be on. */
  pushServiceHosts: string[];
}

const MAX_PUSH_SUBSCRIPTIONS = 10;

// ───────────────────────────── the bell ─────────────────────────────

export async function listNotifications(
  prisma: Db,
  userId: string,
  input: Required<Pick<ListNotificationsInput, "limit">> & ListNotificationsInput,
): Promise<{ items: AppNotification[]; nextCursor: string | null }> {
  const cursor = input.cursor ? parseCursor(input.cursor) : null;
  const rows = await prisma.$queryRawUnsafe<NotificationRow[]>(
    `SELECT ${notificationColumns("n")} FROM notifications n
      WHERE n.user_id = $1::uuid AND n.category::text = ANY($2::text[])
        ${input.unreadOnly ? "AND n.read_at IS NULL" : ""}
        ${cursor ? "AND (n.updated_at, n.id) < ($4, $5::uuid)" : ""}
      ORDER BY n.updated_at DESC, n.id DESC
      LIMIT $3`,
    userId,
    VISIBLE_CATEGORIES,
    input.limit + 1,
    ...(cursor ? [cursor.at, cursor.id] : []),
  );
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toNotification),
    nextCursor: rows.length > input.limit && last ? `${last.updated_at.getTime()}:${last.id}` : null,
  };
}

/** The categories the bell shows (SECURITY is in the schema for later; nothing writes it yet). */
const VISIBLE_CATEGORIES: NotificationCategory[] = ["SOCIAL", "SYSTEM"];

function parseCursor(cursor: string): { at: Date; id: string } {
  const [ms, id] = cursor.split(":");
  return { at: new Date(Number(ms)), id: id! };
}

export async function unreadCount(prisma: Db, userId: string): Promise<{ unread: number }> {
  const [row] = await prisma.$queryRaw<{ unread: number }[]>`
    SELECT count(*)::int AS unread FROM notifications
     WHERE user_id = ${userId}::uuid AND read_at IS NULL AND category::text = ANY(${VISIBLE_CATEGORIES}::text[])`;
  return { unread: row?.unread ?? 0 };
}

/** Marks these of the caller's notifications read; others' ids are ignored, not an error (they may be deleted). */
export async function markRead(deps: ServiceDeps, userId: string, ids: string[]): Promise<{ changed: number }> {
  return withEvents(deps, async (tx, append) => {
    const changed = await tx.$queryRaw<{ id: string; read_at: Date }[]>`
      UPDATE notifications SET read_at = now()
       WHERE user_id = ${userId}::uuid AND id = ANY(${ids}::uuid[]) AND read_at IS NULL
      RETURNING id, read_at`;
    await appendRead(append, userId, changed.map((row) => row.id), changed[0]?.read_at);
    return { changed: changed.length };
  });
}

export async function markAllRead(deps: ServiceDeps, userId: string): Promise<{ changed: number }> {
  return withEvents(deps, async (tx, append) => {
    const changed = await tx.$queryRaw<{ id: string; read_at: Date }[]>`
      UPDATE notifications SET read_at = now() WHERE user_id = ${userId}::uuid AND read_at IS NULL RETURNING id, read_at`;
    await appendRead(append, userId, changed.map((row) => row.id), changed[0]?.read_at);
    return { changed: changed.length };
  });
}

/**
 * Reading a conversation up to `upToSeq` reads the notifications whose newest
 * message is at or before it (in the caller's transaction: conversations.markAsRead).
 * A notification of a newer message, written meanwhile, stays unread.
 */
export async function markConversationRead(
  tx: Prisma.TransactionClient,
  append: AppendEvents,
  userId: string,
  conversationId: string,
  upToSeq: number,
): Promise<void> {
  const changed = await tx.$queryRaw<{ id: string; read_at: Date }[]>`
    UPDATE notifications n SET read_at = now()
      FROM messages m
     WHERE n.user_id = ${userId}::uuid AND n.conversation_id = ${conversationId}::uuid AND n.read_at IS NULL
       AND m.id = n.message_id AND m.seq <= ${upToSeq}
    RETURNING n.id, n.read_at`;
  await appendRead(append, userId, changed.map((row) => row.id), changed[0]?.read_at);
}

async function appendRead(append: AppendEvents, userId: string, ids: string[], readAt: Date | undefined) {
  if (ids.length === 0 || !readAt) return;
  await append([{ type: "notifications.read", userId, payload: { type: "notifications.read", ids, readAt: readAt.toISOString() } }]);
}

/**
 * An edited message's new text replaces the old in the bells, stored events and
 * queued pushes that quote it (in the caller's transaction: messages.editMessage):
 * someone who edits out what they should not have sent takes it out everywhere.
 */
export async function reviseQuotedMessage(
  tx: Prisma.TransactionClient,
  append: AppendEvents,
  message: { id: string; conversationId: string; senderName: string | null; content: string },
): Promise<void> {
  const [conversation] = await tx.$queryRaw<{ type: "DIRECT" | "GROUP" }[]>`
    SELECT type::text AS type FROM conversations WHERE id = ${message.conversationId}::uuid`;
  if (!conversation) return;
  const body = previewBody(conversation.type, message.senderName ?? "Someone", message.content);
  await replaceQuotedText(tx, append, message.id, body);
}

/** Sets the body of everything that quotes the message: notifications (announced), their stored events, queued pushes. */
async function replaceQuotedText(tx: Prisma.TransactionClient, append: AppendEvents, messageId: string, body: string) {
  const rows = await tx.$queryRawUnsafe<NotificationRow[]>(
    `UPDATE notifications n SET body = $2 WHERE n.message_id = $1::uuid RETURNING ${notificationColumns("n")}`,
    messageId,
    body,
  );
  await tx.$executeRaw`
    UPDATE events SET payload = jsonb_set(payload, '{notification,body}', to_jsonb(${body}::text))
     WHERE message_id = ${messageId}::uuid AND payload ? 'notification'`;
  await tx.$executeRaw`
    UPDATE notification_jobs SET payload = jsonb_set(payload, '{body}', to_jsonb(${body}::text))
     WHERE kind = 'PUSH' AND payload->>'messageId' = ${messageId}`;
  await append(rows.map((row) => upsertedEvent(row)));
}

/** The preview a notification shows once the message it quoted is deleted. */
export const DELETED_PREVIEW = "This message was deleted";

/**
 * A deleted message's text leaves the bells that quote it (in the caller's
 * transaction: messages.deleteMessage); deleted content is served to nobody.
 */
export async function forgetDeletedMessage(tx: Prisma.TransactionClient, append: AppendEvents, messageId: string): Promise<void> {
  // Pushes not yet sent are also dropped when they run (push-job.ts).
  await replaceQuotedText(tx, append, messageId, DELETED_PREVIEW);
}

export async function deleteNotification(deps: ServiceDeps, userId: string, id: string): Promise<{ ok: true }> {
  return withEvents(deps, async (tx, append) => {
    const deleted = await tx.$executeRaw`DELETE FROM notifications WHERE id = ${id}::uuid AND user_id = ${userId}::uuid`;
    if (deleted === 0) throw new DomainError("NOT_FOUND", "That notification does not exist.");
    await append([{ type: "notification.deleted", userId, payload: { type: "notification.deleted", id } }]);
    return { ok: true as const };
  });
}

// ───────────────────────────── preferences ─────────────────────────────

const DEFAULT_CHANNELS = { inApp: true, email: true, push: true };

export async function getPreferences(prisma: Db, userId: string, channels: NotificationChannels): Promise<PreferencesOutput> {
  const [stored, settings, limits] = await Promise.all([
    prisma.notificationPreference.findMany({ where: { userId } }),
    prisma.notificationSettings.findUnique({ where: { userId } }),
    getMessagingLimits(prisma),
  ]);
  const of = (category: NotificationCategory) => {
    const row = stored.find((preference) => preference.category === category);
    return row ? { inApp: row.inApp, email: row.email, push: row.push } : { ...DEFAULT_CHANNELS };
  };
  return {
    categories: { SOCIAL: of("SOCIAL"), SYSTEM: of("SYSTEM") },
    doNotDisturb: { ...doNotDisturbOf(settings) },
    doNotDisturbSaved: settings !== null,
    available: { email: channels.email, push: channels.push },
    vapidPublicKey: channels.push ? channels.vapidPublicKey : null,
    emailDigest: { afterMinutes: limits.emailDigestAfterMinutes, intervalMinutes: limits.emailDigestIntervalMinutes },
  };
}

/** Changes what the input names; the rest stays. */
export async function updatePreferences(
  prisma: Db,
  userId: string,
  input: UpdatePreferencesInput,
  channels: NotificationChannels,
): Promise<PreferencesOutput> {
  await prisma.$transaction(async (tx) => {
    for (const [category, change] of Object.entries(input.categories ?? {}) as [NotificationCategory, Partial<NotificationPreferences["categories"]["SOCIAL"]>][]) {
      if (!change || Object.keys(change).length === 0) continue;
      await tx.notificationPreference.upsert({
        where: { userId_category: { userId, category } },
        create: { userId, category, ...DEFAULT_CHANNELS, ...change },
        update: change,
      });
    }
    const dnd = input.doNotDisturb;
    if (dnd && Object.keys(dnd).length > 0) {
      const data = {
        ...(dnd.enabled !== undefined && { dndEnabled: dnd.enabled }),
        ...(dnd.start !== undefined && { dndStart: dnd.start }),
        ...(dnd.end !== undefined && { dndEnd: dnd.end }),
        ...(dnd.timeZone !== undefined && { timeZone: dnd.timeZone }),
      };
      await tx.notificationSettings.upsert({ where: { userId }, create: { userId, ...data }, update: data });
    }
  });
  return getPreferences(prisma, userId, channels);
}

// ───────────────────────────── push subscriptions ─────────────────────────────

/**
 * Keeps a browser's subscription for the caller. An endpoint belongs to one
 * browser profile: if another account subscribed it before (a shared computer),
 * it moves to whoever signed in there last.
 */
export async function subscribePush(
  prisma: Db,
  userId: string,
  input: { endpoint: string; keys: { p256dh: string; auth: string } },
  userAgent: string | null,
  channels: NotificationChannels,
): Promise<{ ok: true }> {
  if (!channels.push) throw new DomainError("PRECONDITION_FAILED", "Push notifications are not set up on this server.");
  // The server POSTs to the endpoint: only to push services, never to an address of the caller's choosing.
  const host = new URL(input.endpoint).hostname.toLowerCase();
  if (!channels.pushServiceHosts.some((allowed) => host === allowed || host.endsWith(`.${allowed}`))) {
    throw new DomainError("BAD_REQUEST", "That is not the address of a browser push service.");
  }
  await prisma.pushSubscription.upsert({
    where: { endpoint: input.endpoint },
    create: { userId, endpoint: input.endpoint, p256dh: input.keys.p256dh, auth: input.keys.auth, userAgent: userAgent?.slice(0, 512) },
    update: { userId, p256dh: input.keys.p256dh, auth: input.keys.auth, userAgent: userAgent?.slice(0, 512) },
  });
  // A person's browsers, not a list without end: the oldest beyond the tenth goes.
  await prisma.$executeRaw`
    DELETE FROM push_subscriptions WHERE user_id = ${userId}::uuid AND id NOT IN (
      SELECT id FROM push_subscriptions WHERE user_id = ${userId}::uuid ORDER BY created_at DESC LIMIT ${MAX_PUSH_SUBSCRIPTIONS})`;
  return { ok: true };
}

export async function unsubscribePush(prisma: Db, userId: string, endpoint: string): Promise<{ ok: true }> {
  await prisma.pushSubscription.deleteMany({ where: { userId, endpoint } });
  return { ok: true };
}

// ───────────────────────────── announcements ─────────────────────────────

/** The roles an announcement may go to (an admin need not manage roles to address one). */
export async function audienceRoles(prisma: Db): Promise<{ roles: { id: string; name: string; memberCount: number }[] }> {
  const roles = await prisma.role.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true, _count: { select: { users: true } } } });
  return { roles: roles.map((role) => ({ id: role.id, name: role.name, memberCount: role._count.users })) };
}

/**
 * A SYSTEM notification for everyone, or for the holders of one role, in one
 * statement; each recipient's bell gets it live, and those away with push on get
 * a push. People who turned announcements off in the app get none.
 */
export async function sendSystemNotification(
  deps: ServiceDeps,
  actor: { id: string },
  input: { title: string; body: string; link?: string | null; audience: { kind: "everyone" } | { kind: "role"; roleId: string } },
  channels: NotificationChannels,
  batchSize = SYSTEM_BATCH,
): Promise<{ recipients: number; pushes: number }> {
  const roleId = input.audience.kind === "role" ? input.audience.roleId : null;
  if (roleId && !(await deps.prisma.role.findUnique({ where: { id: roleId }, select: { id: true } }))) {
    throw new DomainError("NOT_FOUND", "That role does not exist.");
  }
  let recipients = 0;
  let pushes = 0;
  // In batches of people, each its own transaction: one for everyone would hold the
  // event counter (and with it every send of the installation) while it appends an
  // event per person.
  let after = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    const batch = await withEvents(deps, async (tx, append) => {
      const rows = await tx.$queryRawUnsafe<(NotificationRow & { push: boolean })[]>(
        `WITH audience AS (
           SELECT u.id, COALESCE(np.push, true) AND EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = u.id) AS push
             FROM users u
             LEFT JOIN notification_preferences np ON np.user_id = u.id AND np.category = 'SYSTEM'
            WHERE u.disabled_at IS NULL AND COALESCE(np.in_app, true) AND u.id > $5::uuid
              AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role_id = $4::uuid))
            ORDER BY u.id
            LIMIT ${batchSize}
         ), inserted AS (
           INSERT INTO notifications (user_id, category, title, body, link, updated_at)
           SELECT id, 'SYSTEM', $1, $2, $3, now() FROM audience
           RETURNING ${notificationColumns("notifications")}
         )
         SELECT inserted.*, audience.push FROM inserted JOIN audience ON audience.id = inserted.user_id ORDER BY inserted.user_id`,
        input.title,
        input.body,
        input.link ?? null,
        roleId,
        after,
      );
      let queued = 0;
      if (channels.push) {
        const jobs = rows
          .filter((row) => row.push)
          .map((row) => ({
            kind: "PUSH" as const,
            userId: row.user_id,
            payload: { notificationId: row.id, title: row.title, body: row.body, link: row.link ?? "/messages", tag: `system:${row.id}` },
          }));
        await enqueueJobs(tx, jobs);
        queued = jobs.length;
      }
      await append(rows.map((row) => upsertedEvent(row)));
      return { rows, queued };
    });
    recipients += batch.rows.length;
    pushes += batch.queued;
    if (batch.rows.length < batchSize) break;
    after = batch.rows[batch.rows.length - 1]!.user_id;
  }
  await recordAudit(deps.prisma, {
    actorId: actor.id,
    action: "notification.system_sent",
    targetType: roleId ? "role" : "everyone",
    targetId: roleId ?? undefined,
    metadata: { title: input.title, recipients },
    ip: deps.origin?.ip ?? null,
    userAgent: deps.origin?.userAgent ?? null,
  });
  return { recipients, pushes };
}

/** People one announcement transaction reaches. */
const SYSTEM_BATCH = 1_000;
