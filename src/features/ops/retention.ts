import pg from "pg";
import { getMessagingSettings } from "~/features/settings/settings.service";
import { connectionStringOf, type Db } from "~/server/db/client";
import { env } from "~/server/env";
import type { Logger } from "~/server/logger";

// Retention: messages older than the settings' messageRetentionDays, then audit
// log entries older than AUDIT_RETENTION_DAYS, are deleted for good, in batches
// of their own short statements or transactions, oldest first.
//
// One instance runs it at a time, for the whole run: the run opens a connection of
// its own (outside the pool, which may be a single connection) and takes the
// session-level advisory lock pg_try_advisory_lock on it; if another instance holds
// the lock, this run stops at once and deletes nothing. The lock is released (and
// the connection closed) in `finally`; an instance that dies mid-run loses its
// session and with it the lock. PGlite serves every connection on one session,
// where an advisory lock is re-entrant, so a second guard keeps two runs of one
// process on one database apart (PGlite has one process by construction).
//
// Per message batch, in one transaction:
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
//
// Audit entries go by age alone, a batch per statement.

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
    deletedAuditEntries: number;
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
  /** Message batches that deleted something. */
  batches: number;
  /** AUDIT_RETENTION_DAYS of this run. */
  auditRetentionDays: number;
  /** Audit entries written before this moment are deleted. */
  auditCutoff: Date;
  deletedAuditEntries: number;
  /** False when another instance held the lock: it runs, this one stopped. */
  ran: boolean;
}

/** What a run reports after each batch it committed. */
export interface RetentionBatch {
  table: "messages" | "audit_log";
  deleted: number;
}

export interface RetentionRunOptions {
  batchSize?: number;
  now?: Date;
  signal?: AbortSignal;
  /** Default: AUDIT_RETENTION_DAYS. */
  auditRetentionDays?: number;
  /** Called after each committed batch, with the lock still held (progress, tests). */
  afterBatch?: (batch: RetentionBatch) => void | Promise<void>;
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

/** One run: deletes every message, then every audit entry, older than its retention period, batch by batch. */
export async function runRetention(prisma: Db, options: RetentionRunOptions = {}): Promise<RetentionResult> {
  const now = options.now ?? new Date();
  const batchSize = options.batchSize ?? RETENTION_BATCH_SIZE;
  const auditRetentionDays = options.auditRetentionDays ?? env().AUDIT_RETENTION_DAYS;
  const lock = await acquireRunLock(prisma);
  try {
    const { retentionDays } = await cutoffNow(prisma);
    const result: RetentionResult = {
      retentionDays,
      cutoff: new Date(now.getTime() - retentionDays * DAY_MS),
      deletedMessages: 0,
      batches: 0,
      auditRetentionDays,
      auditCutoff: new Date(now.getTime() - auditRetentionDays * DAY_MS),
      deletedAuditEntries: 0,
      ran: lock !== null,
    };
    if (!lock) return result;
    const batch = async (table: RetentionBatch["table"], remove: () => Promise<number>) => {
      lock.check();
      const deleted = await remove();
      if (deleted > 0) await options.afterBatch?.({ table, deleted });
      return deleted;
    };
    while (!options.signal?.aborted) {
      const deleted = await batch("messages", () => deleteBatch(prisma, result.cutoff, batchSize));
      result.deletedMessages += deleted;
      if (deleted > 0) result.batches += 1;
      if (deleted < batchSize) break;
    }
    while (!options.signal?.aborted) {
      const deleted = await batch("audit_log", () => deleteAuditBatch(prisma, result.auditCutoff, batchSize));
      result.deletedAuditEntries += deleted;
      if (deleted < batchSize) break;
    }
    return result;
  } finally {
    await lock?.release();
  }
}

interface RunLock {
  /** Throws once the lock's connection is gone: its session, and so the lock, may be too. */
  check(): void;
  release(): Promise<void>;
}

/** The databases (by connection string) this process is running retention on now. */
const globalForRunning = globalThis as unknown as { __chatlineRetentionRunning?: Set<string> };
const runningHere = (globalForRunning.__chatlineRetentionRunning ??= new Set<string>());

/** The run's lock, held on a connection of its own until release(); null while another run holds it. */
async function acquireRunLock(prisma: Db): Promise<RunLock | null> {
  const connectionString = connectionStringOf(prisma);
  if (!connectionString) throw new Error("Retention needs a client made by createDatabase: it locks on a connection of its own.");
  // Taken before any await: a second run of this process on this database stops here.
  if (runningHere.has(connectionString)) return null;
  runningHere.add(connectionString);
  const client = new pg.Client({ connectionString, application_name: "chatline-retention" });
  let lost: unknown;
  let released = false;
  // An error event without a listener would crash the process.
  client.on("error", (error) => {
    lost ??= error;
  });
  client.on("end", () => {
    if (!released) lost ??= new Error("the connection ended");
  });
  const close = async () => {
    released = true;
    await client.end().catch(() => undefined);
    runningHere.delete(connectionString);
  };
  try {
    await client.connect();
    const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS locked", [
      RETENTION_LOCK_KEY.toString(),
    ]);
    if (!rows[0]?.locked) {
      await close();
      return null;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    check() {
      if (lost) throw new Error("Retention lost its lock's connection; the next run carries on.", { cause: lost });
    },
    async release() {
      // Closing the session would release it on PostgreSQL; PGlite's one session outlives the socket.
      if (!lost) await client.query("SELECT pg_advisory_unlock($1::bigint)", [RETENTION_LOCK_KEY.toString()]).catch(() => undefined);
      await close();
    },
  };
}

async function deleteBatch(prisma: Db, cutoff: Date, batchSize: number): Promise<number> {
  return prisma.$transaction(
    async (tx) => {
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

async function deleteAuditBatch(prisma: Db, cutoff: Date, batchSize: number): Promise<number> {
  return prisma.$executeRaw`
    DELETE FROM audit_log WHERE id IN (
      SELECT id FROM audit_log WHERE created_at < ${cutoff} ORDER BY created_at LIMIT ${batchSize})`;
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
  /** Default: AUDIT_RETENTION_DAYS. */
  auditRetentionDays?: number;
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
    const finish = (ran: boolean, failed: boolean, deletedMessages: number, deletedAuditEntries: number) => {
      schedule.lastRun = { startedAt, finishedAt: new Date(), ran, failed, deletedMessages, deletedAuditEntries };
    };
    running = runRetention(options.prisma, { signal: controller.signal, auditRetentionDays: options.auditRetentionDays })
      .then((result) => {
        finish(result.ran, false, result.deletedMessages, result.deletedAuditEntries);
        if (result.deletedMessages > 0 || result.deletedAuditEntries > 0 || !result.ran) options.log.info({ ...result }, "retention run");
      })
      .catch((error: unknown) => {
        finish(false, true, 0, 0);
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
