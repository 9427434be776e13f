import { getMessagingSettings } from "~/features/settings/settings.service";
import type { Db } from "~/server/db/client";
import type { Logger } from "~/server/logger";

// Message retention: messages older than the settings' messageRetentionDays are
// deleted for good, in batches of their own short transactions, oldest first.
// Each batch takes a transaction-scoped advisory lock with pg_try_advisory_xact_lock:
// if another instance holds it, that instance is running and this run stops.
//
// Per batch, in one transaction:
// - the messages go; their reactions follow by ON DELETE CASCADE;
// - stored events about them: those older than the cutoff are deleted, newer ones
//   (an edit or reaction after the cutoff) have the message's content blanked, so
//   replay never brings it back (as a user's delete does). Clients holding such a
//   message keep it on screen until their next load: retention sends no event;
// - receipts no remaining message needs: the status of message S is the first
//   receipt with up_to_seq >= S, so receipts below the conversation's oldest
//   remaining seq (or all of them, when none remains) answer for nothing now;
// - a conversation whose newest message went loses its preview (and its sender);
//   last_message_at stays, so the list keeps its order.

/** Arbitrary but fixed: the advisory lock key of the retention job. */
export const RETENTION_LOCK_KEY = 7_417_000_001n;
export const RETENTION_BATCH_SIZE = 1_000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionPreview {
  retentionDays: number;
  /** Messages created before this moment are deleted by the next run. */
  cutoff: Date;
  /** How many messages the next run would delete (as of now). */
  messages: number;
  /** This instance's schedule; null when it runs no retention (RETENTION_INTERVAL_MS=0). */
  schedule: RetentionSchedule | null;
}

/** What this instance knows of its own retention runs (in memory: a restart forgets the last run). */
export interface RetentionSchedule {
  intervalMs: number;
  /** When this instance tries next. */
  nextRunAt: Date;
  /** This instance's latest attempt, once there was one. */
  lastRun: {
    startedAt: Date;
    finishedAt: Date;
    /** False: another instance held the lock, or the run failed. */
    ran: boolean;
    failed: boolean;
    deletedMessages: number;
  } | null;
}

const globalForRetention = globalThis as unknown as { __chatlineRetentionSchedule?: RetentionSchedule };

export function retentionSchedule(): RetentionSchedule | null {
  const schedule = globalForRetention.__chatlineRetentionSchedule;
  return schedule ? { ...schedule, lastRun: schedule.lastRun && { ...schedule.lastRun } } : null;
}

export interface RetentionResult {
  retentionDays: number;
  cutoff: Date;
  deletedMessages: number;
  batches: number;
  /** False when another instance held the lock: it runs, this one stopped. */
  ran: boolean;
}

async function cutoffNow(prisma: Db): Promise<{ retentionDays: number; cutoff: Date }> {
  const { messageRetentionDays } = await getMessagingSettings(prisma);
  return { retentionDays: messageRetentionDays, cutoff: new Date(Date.now() - messageRetentionDays * DAY_MS) };
}

export async function retentionPreview(prisma: Db): Promise<RetentionPreview> {
  const { retentionDays, cutoff } = await cutoffNow(prisma);
  const messages = await prisma.message.count({ where: { createdAt: { lt: cutoff } } });
  return { retentionDays, cutoff, messages, schedule: retentionSchedule() };
}

/** One run: deletes every message older than the retention period, batch by batch. */
export async function runRetention(
  prisma: Db,
  options: { batchSize?: number; now?: Date; signal?: AbortSignal } = {},
): Promise<RetentionResult> {
  const { retentionDays } = await cutoffNow(prisma);
  const cutoff = new Date((options.now ?? new Date()).getTime() - retentionDays * DAY_MS);
  const batchSize = options.batchSize ?? RETENTION_BATCH_SIZE;
  let deletedMessages = 0;
  let batches = 0;
  while (!options.signal?.aborted) {
    const outcome = await deleteBatch(prisma, cutoff, batchSize);
    if (outcome === "locked") return { retentionDays, cutoff, deletedMessages, batches, ran: false };
    deletedMessages += outcome;
    if (outcome > 0) batches += 1;
    if (outcome < batchSize) break;
  }
  return { retentionDays, cutoff, deletedMessages, batches, ran: true };
}

async function deleteBatch(prisma: Db, cutoff: Date, batchSize: number): Promise<number | "locked"> {
  return prisma.$transaction(
    async (tx) => {
      const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${RETENTION_LOCK_KEY}) AS locked`;
      if (!lock?.locked) return "locked" as const;
      const deleted = await tx.$queryRaw<{ id: string; conversation_id: string }[]>`
        DELETE FROM messages WHERE id IN (
          SELECT id FROM messages WHERE created_at < ${cutoff} ORDER BY created_at LIMIT ${batchSize}
          FOR UPDATE SKIP LOCKED)
        RETURNING id, conversation_id`;
      if (deleted.length === 0) return 0;
      const messageIds = deleted.map((row) => row.id);
      const conversationIds = [...new Set(deleted.map((row) => row.conversation_id))];
      await tx.$executeRaw`
        DELETE FROM events WHERE message_id = ANY(${messageIds}::uuid[]) AND created_at < ${cutoff}`;
      await tx.$executeRaw`
        UPDATE events SET payload = jsonb_set(jsonb_set(payload, '{message,content}', 'null'), '{message,metadata}', 'null')
         WHERE message_id = ANY(${messageIds}::uuid[]) AND payload ? 'message'`;
      await tx.$executeRaw`
        DELETE FROM message_receipts r
         USING conversations c
         WHERE c.id = ANY(${conversationIds}::uuid[]) AND r.conversation_id = c.id
           AND r.up_to_seq < COALESCE((SELECT min(m.seq) FROM messages m WHERE m.conversation_id = c.id), c.last_seq + 1)`;
      await tx.$executeRaw`
        UPDATE conversations c SET last_message_preview = NULL, last_message_sender_id = NULL
         WHERE c.id = ANY(${conversationIds}::uuid[])
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.seq = c.last_seq)`;
      return deleted.length;
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
}

/**
 * Runs retention now and then every `intervalMs` (first run after `firstRunMs`).
 * Every instance schedules it; the advisory lock lets one work at a time, and
 * whoever comes second finds little or nothing left.
 */
export function scheduleRetention(options: {
  prisma: Db;
  log: Logger;
  intervalMs: number;
  firstRunMs?: number;
}): { stop(): Promise<void> } {
  const controller = new AbortController();
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const firstRunMs = options.firstRunMs ?? Math.min(60_000, options.intervalMs);
  const schedule: RetentionSchedule = {
    intervalMs: options.intervalMs,
    nextRunAt: new Date(Date.now() + firstRunMs),
    lastRun: null,
  };
  globalForRetention.__chatlineRetentionSchedule = schedule;
  const run = () => {
    schedule.nextRunAt = new Date(Date.now() + options.intervalMs);
    if (running || controller.signal.aborted) return;
    const startedAt = new Date();
    const finish = (ran: boolean, failed: boolean, deletedMessages: number) => {
      schedule.lastRun = { startedAt, finishedAt: new Date(), ran, failed, deletedMessages };
    };
    running = runRetention(options.prisma, { signal: controller.signal })
      .then((result) => {
        finish(result.ran, false, result.deletedMessages);
        if (result.deletedMessages > 0 || !result.ran) options.log.info({ ...result }, "retention run");
      })
      .catch((error: unknown) => {
        finish(false, true, 0);
        options.log.warn({ err: error }, "retention run failed; the next interval retries");
      })
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(() => {
    run();
    timer = setInterval(run, options.intervalMs);
    timer.unref();
  }, firstRunMs);
  first.unref();
  return {
    async stop() {
      if (globalForRetention.__chatlineRetentionSchedule === schedule) globalForRetention.__chatlineRetentionSchedule = undefined;
      controller.abort();
      clearTimeout(first);
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
