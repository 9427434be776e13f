import { usersHoldingPermission } from "~/features/auth/auth.service";
import { PERMISSIONS } from "~/features/permissions/catalog";
import type { PresenceSnapshot } from "~/features/presence/presence-store";
import { getMessagingLimits } from "~/features/settings/settings.service";
import type { Db } from "~/server/db/client";
import type { Logger } from "~/server/logger";
import { enqueueJobs, type ClaimedJob, type JobHandler } from "../jobs";
import { COLLAPSE_WINDOW_MS, doNotDisturbOf, isDoNotDisturb } from "../rules";
import { composeDigestEmail, type DigestConversation } from "./digest-email";
import type { Mailer } from "./mailer";

// Email for people who are away. The notifier marks a person's digest as pending
// (`email_digest_state.pending_since`) when a message they would hear of arrives.
// Every EMAIL_DIGEST_CHECK_MS each instance schedules the digests that are due:
// pending, the person offline for the settings' emailDigestAfterMinutes, their
// last digest at least emailDigestIntervalMinutes ago, outside do-not-disturb.
// Scheduling takes the state rows FOR UPDATE SKIP LOCKED and, in the same
// transaction, queues the job and moves the state on (last sent now, covered up
// to now), so two instances never schedule one digest twice. The job gathers what
// is still unread when it runs and sends nothing if the person came back or read it.

/** The settings page, linked from every digest. */
export const NOTIFICATION_SETTINGS_PATH = "/messages/settings";
/** Conversations and messages per conversation a digest shows. */
const MAX_CONVERSATIONS = 10;
const MESSAGES_PER_CONVERSATION = 3;
/** People one scheduling run looks at; the rest wait for the next run. */
const SCHEDULE_BATCH = 200;

type PresenceLookup = { snapshotOf(userIds: string[]): Promise<Map<string, PresenceSnapshot>> };

export interface DigestPayload {
  /** Messages after this instant and up to `until` are this digest's. */
  since: string;
  until: string;
}

interface DueRow {
  user_id: string;
  pending_since: Date;
  covered_until: Date | null;
  dndEnabled: boolean | null;
  dndStart: string | null;
  dndEnd: string | null;
  timeZone: string | null;
}

export class DigestScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly deps: { prisma: Db; log: Logger; presence: () => PresenceLookup; checkMs: number; onJobs: () => void },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.deps.checkMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Queues every digest due now; resolves with how many. */
  runOnce(now = new Date()): Promise<number> {
    this.running ??= this.schedule(now)
      .catch((error: unknown) => {
        this.deps.log.warn({ err: error }, "scheduling email digests failed; the next check retries");
        return 0;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async schedule(now: Date): Promise<number> {
    const limits = await getMessagingLimits(this.deps.prisma);
    let scheduled = 0;
    // Pages through every due row: people skipped (online, in do-not-disturb) stay
    // pending, and must not hide those behind them from the next page.
    let after: { pendingSince: Date; userId: string } | null = null;
    for (;;) {
      const page = await this.schedulePage(now, limits, after);
      scheduled += page.scheduled;
      if (!page.last) break;
      after = page.last;
    }
    if (scheduled > 0) this.deps.onJobs();
    return scheduled;
  }

  private async schedulePage(
    now: Date,
    limits: { emailDigestIntervalMinutes: number; emailDigestAfterMinutes: number },
    after: { pendingSince: Date; userId: string } | null,
  ): Promise<{ scheduled: number; last: { pendingSince: Date; userId: string } | null }> {
    return this.deps.prisma.$transaction(async (tx) => {
      const due = await tx.$queryRaw<DueRow[]>`
        SELECT s.user_id, s.pending_since, s.covered_until,
               ns.dnd_enabled AS "dndEnabled", ns.dnd_start AS "dndStart", ns.dnd_end AS "dndEnd", ns.time_zone AS "timeZone"
          FROM email_digest_state s
          JOIN users u ON u.id = s.user_id
          LEFT JOIN notification_settings ns ON ns.user_id = s.user_id
          LEFT JOIN notification_preferences np ON np.user_id = s.user_id AND np.category = 'SOCIAL'
         WHERE s.pending_since IS NOT NULL
           AND (s.pending_since, s.user_id) > (${after?.pendingSince ?? new Date(0)}, ${after?.userId ?? "00000000-0000-0000-0000-000000000000"}::uuid)
           AND u.disabled_at IS NULL AND COALESCE(np.email, true)
           AND (s.last_sent_at IS NULL OR s.last_sent_at <= ${now}::timestamptz - ${limits.emailDigestIntervalMinutes} * interval '1 minute')
           AND COALESCE(u.last_seen_at, u.created_at) <= ${now}::timestamptz - ${limits.emailDigestAfterMinutes} * interval '1 minute'
         ORDER BY s.pending_since, s.user_id
         LIMIT ${SCHEDULE_BATCH}
           FOR UPDATE OF s SKIP LOCKED`;
      const lastRow = due.length === SCHEDULE_BATCH ? due[due.length - 1]! : null;
      const last = lastRow ? { pendingSince: lastRow.pending_since, userId: lastRow.user_id } : null;
      if (due.length === 0) return { scheduled: 0, last };
      // last_seen_at is written when a connection closes; someone connected now is not away.
      const presence = await this.deps.presence().snapshotOf(due.map((row) => row.user_id));
      const ready = due.filter(
        (row) =>
          (presence.get(row.user_id)?.status ?? "offline") === "offline" &&
          !isDoNotDisturb(doNotDisturbOf(row), now),
      );
      if (ready.length === 0) return { scheduled: 0, last };
      await enqueueJobs(
        tx,
        ready.map((row) => ({
          kind: "EMAIL_DIGEST" as const,
          userId: row.user_id,
          payload: {
            // The first digest starts a little before the first pending message was seen by the notifier.
            since: (row.covered_until ?? new Date(row.pending_since.getTime() - COLLAPSE_WINDOW_MS)).toISOString(),
            until: now.toISOString(),
          } satisfies DigestPayload as unknown as Record<string, unknown>,
        })),
      );
      await tx.$executeRaw`
        UPDATE email_digest_state SET pending_since = NULL, last_sent_at = ${now}, covered_until = ${now}
         WHERE user_id = ANY(${ready.map((row) => row.user_id)}::uuid[])`;
      return { scheduled: ready.length, last };
    });
  }
}

interface DigestConversationRow {
  id: string;
  title: string | null;
  unread: number;
  latest: { sender_name: string | null; content: string | null; created_at: string }[];
}

/** Runs an EMAIL_DIGEST job: what is still unread of its window, one email, or nothing. */
export function digestJobHandler(deps: { prisma: Db; mailer: Mailer; appUrl: string; appName: string; presence: () => PresenceLookup }): JobHandler {
  return async (job: ClaimedJob) => {
    const { since, until } = job.payload as unknown as DigestPayload;
    const [user] = await deps.prisma.$queryRaw<{ email: string; name: string; time_zone: string | null }[]>`
      SELECT u.email, u.name, ns.time_zone FROM users u LEFT JOIN notification_settings ns ON ns.user_id = u.id
       WHERE u.id = ${job.userId}::uuid AND u.disabled_at IS NULL`;
    if (!user) return;
    // Lost messaging:access since the digest was queued: its messages are no longer theirs to read.
    if (!(await usersHoldingPermission(deps.prisma, [job.userId], PERMISSIONS.messagingAccess)).has(job.userId)) return;
    // Back at the app before the mail went: the bell has it.
    const presence = await deps.presence().snapshotOf([job.userId]);
    if ((presence.get(job.userId)?.status ?? "offline") !== "offline") return;
    const rows = await deps.prisma.$queryRaw<DigestConversationRow[]>`
      SELECT c.id,
             CASE WHEN c.type = 'DIRECT'
                  THEN (SELECT o.name FROM conversation_participants op JOIN users o ON o.id = op.user_id
                         WHERE op.conversation_id = c.id AND op.user_id <> p.user_id LIMIT 1)
                  ELSE c.name END AS title,
             w.unread, w.latest
        FROM conversation_participants p
        JOIN conversations c ON c.id = p.conversation_id
        CROSS JOIN LATERAL (
          SELECT count(*)::int AS unread,
                 (SELECT json_agg(x ORDER BY x.seq) FROM (
                    SELECT m.seq, s.name AS sender_name, m.content, m.created_at FROM messages m
                      LEFT JOIN users s ON s.id = m.sender_id
                     WHERE m.conversation_id = c.id AND m.seq > p.last_read_seq AND m.type = 'TEXT' AND m.deleted_at IS NULL
                       AND m.sender_id <> p.user_id AND m.created_at > ${new Date(since)} AND m.created_at <= ${new Date(until)}
                     ORDER BY m.seq DESC LIMIT ${MESSAGES_PER_CONVERSATION}) x) AS latest
            FROM messages m
           WHERE m.conversation_id = c.id AND m.seq > p.last_read_seq AND m.type = 'TEXT' AND m.deleted_at IS NULL
             AND m.sender_id <> p.user_id AND m.created_at > ${new Date(since)} AND m.created_at <= ${new Date(until)}
        ) w
       WHERE p.user_id = ${job.userId}::uuid AND p.left_at IS NULL AND NOT p.muted AND c.last_seq > p.last_read_seq AND w.unread > 0
       ORDER BY c.last_message_at DESC NULLS LAST
       LIMIT ${MAX_CONVERSATIONS}`;
    if (rows.length === 0) return;
    const conversations: DigestConversation[] = rows.map((row) => ({
      title: row.title ?? "Group conversation",
      link: `${deps.appUrl}/messages/${row.id}`,
      unreadCount: row.unread,
      messages: (row.latest ?? []).map((message) => ({
        senderName: message.sender_name ?? "Someone",
        text: message.content ?? "",
        sentAt: new Date(message.created_at),
      })),
    }));
    const email = composeDigestEmail({
      recipientName: user.name,
      appName: deps.appName,
      appUrl: deps.appUrl,
      settingsPath: NOTIFICATION_SETTINGS_PATH,
      conversations,
      timeZone: user.time_zone ?? undefined,
    });
    await deps.mailer.send({ to: user.email, ...email });
  };
}
