import { usersHoldingPermission } from "~/features/auth/auth.service";
import { PERMISSIONS } from "~/features/permissions/catalog";
import type { PresenceSnapshot } from "~/features/presence/presence-store";
import type { Db } from "~/server/db/client";
import type { Logger } from "~/server/logger";
import type { ClaimedJob, JobHandler } from "../jobs";
import { doNotDisturbOf, isDoNotDisturb } from "../rules";
import { PushSendError, type PushPayload, type PushSender } from "./push-sender";

// Runs a PUSH job: one push to each of the person's browsers, unless they came
// back to the app or read the conversation while the job waited. A subscription
// the push service no longer knows (404/410), or refuses for good (it was made
// with other keys), is deleted. A temporary failure of any browser retries the
// job; the browsers that had it already replace it (same tag), not stack it.

export interface PushJobPayload extends PushPayload {
  /** A message burst: skipped once the conversation is read. */
  conversationId?: string;
  /** The message quoted: skipped once it is deleted. */
  messageId?: string;
}

export function pushJobHandler(deps: {
  prisma: Db;
  sender: PushSender;
  log: Logger;
  presence: () => { snapshotOf(userIds: string[]): Promise<Map<string, PresenceSnapshot>> };
}): JobHandler {
  return async (job: ClaimedJob) => {
    const payload = job.payload as unknown as PushJobPayload;
    const presence = await deps.presence().snapshotOf([job.userId]);
    if (presence.get(job.userId)?.status === "online") return;
    if (payload.conversationId) {
      // A message push: only to someone who may still read it, and has not.
      if (!(await usersHoldingPermission(deps.prisma, [job.userId], PERMISSIONS.messagingAccess)).has(job.userId)) return;
      if (await isRead(deps.prisma, job.userId, payload.conversationId)) return;
    }
    if (payload.messageId && (await isDeleted(deps.prisma, payload.messageId))) return;
    if (!(await stillWanted(deps.prisma, job.userId, payload.conversationId ? "SOCIAL" : "SYSTEM", new Date()))) return;
    const subscriptions = await deps.prisma.pushSubscription.findMany({ where: { userId: job.userId } });
    const push: PushPayload = {
      title: payload.title,
      body: payload.body,
      link: payload.link,
      tag: payload.tag,
      ...(payload.notificationId && { notificationId: payload.notificationId }),
    };
    let retry: unknown = null;
    for (const subscription of subscriptions) {
      try {
        const outcome = await deps.sender.send(subscription, push);
        if (outcome === "expired") await deps.prisma.pushSubscription.deleteMany({ where: { id: subscription.id } });
        else await deps.prisma.pushSubscription.updateMany({ where: { id: subscription.id }, data: { lastUsedAt: new Date() } });
      } catch (error) {
        if (error instanceof PushSendError && !error.retryable) {
          // 400/401/403 may be our keys or clock, not the browser's subscription: keep it.
          deps.log.warn({ status: error.statusCode, userId: job.userId }, "push refused for good; the subscription is kept");
        } else {
          retry = error;
        }
      }
    }
    if (retry) throw retry;
  };
}

/** The person may have turned push off, or entered do-not-disturb, while the job waited or was retried. */
async function stillWanted(prisma: Db, userId: string, category: "SOCIAL" | "SYSTEM", now: Date): Promise<boolean> {
  const [preference, settings] = await Promise.all([
    prisma.notificationPreference.findUnique({ where: { userId_category: { userId, category } }, select: { push: true } }),
    prisma.notificationSettings.findUnique({ where: { userId } }),
  ]);
  if (preference && !preference.push) return false;
  return !isDoNotDisturb(doNotDisturbOf(settings), now);
}

async function isDeleted(prisma: Db, messageId: string): Promise<boolean> {
  const message = await prisma.message.findUnique({ where: { id: messageId }, select: { deletedAt: true } });
  return !message || message.deletedAt !== null;
}

async function isRead(prisma: Db, userId: string, conversationId: string): Promise<boolean> {
  const [row] = await prisma.$queryRaw<{ read: boolean }[]>`
    SELECT p.last_read_seq >= c.last_seq OR p.left_at IS NOT NULL OR p.muted AS read
      FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
     WHERE p.user_id = ${userId}::uuid AND p.conversation_id = ${conversationId}::uuid`;
  return row?.read ?? true;
}
