import pg from "pg";
import { DELETED_PREVIEW } from "~/features/notifications/notifications.service";
import { sweepAttachments } from "~/features/attachments/attachment-sweeper";
import { attachmentRuntime } from "~/features/attachments/runtime";
import type { AttachmentStorage } from "~/features/attachments/storage/attachment-storage";
import { getMessagingSettings } from "~/features/settings/settings.service";
import { connectionStringOf, type Db } from "~/server/db/client";
import { env } from "~/server/env";
import type { Logger } from "~/server/logger";

// Retention: messages older than the settings' messageRetentionDays, then audit
// log entries older than AUDIT_RETENTION_DAYS, then notifications as old as those
// messages and notification jobs a week old, are deleted for good, in batches
// of their own short statements or transactions, oldest first.
//
// One instance runs it at a time, for the whole run: the run opens a connection of
// its own (outside the pool, which may be a single connection) and holds the
// advisory lock RETENTION_LOCK_KEY on it from before its first batch to after its
// last; if another instance holds it, this run stops at once and deletes nothing.
// The batches themselves commit one by one on the pool.
//
// On PostgreSQL the lock is transaction-level: BEGIN (read committed, read only),
// pg_try_advisory_xact_lock, and the transaction stays open, idle, for the run;
// ROLLBACK in `finally` ends it and the lock with it. A session-level lock would
// not survive PgBouncer in transaction pooling mode: its lock and unlock can run on
// two different server connections, and the lock then stays on a pooled server
// connection for good (every later run: ran false). An open transaction pins one
// server connection, and whatever ends it (ROLLBACK, the client or the server
// going away, a pooler killing it) releases the lock. It costs the server little:
// it writes nothing, so it has no transaction id, and read committed holds no
// snapshot between statements (no vacuum held back; its statements go by the
// simple query protocol, see LOCK_HELD_SQL). The transaction raises its
// own idle_in_transaction_session_timeout (SET LOCAL, LOCK_IDLE_TIMEOUT): a
// server-wide one shorter than a batch would otherwise kill every run; ours still
// frees the lock of a process that froze. Before each batch the run asks, on the
// lock's connection, whether its session still holds the lock (which also resets
// the idle timers of the server and of PgBouncer): if the session was killed
// (a timeout, pg_terminate_backend, the network), the run stops there with an
// error, which the schedule logs ("retention run failed"); the next run carries on.
// A batch under way when that happens still finishes, perhaps alongside another
// instance's first one: message batches skip rows another holds (SKIP LOCKED),
// and an audit entry deleted twice is deleted once.
//
// PGlite (the embedded database; the server's version() says "PGlite") keeps the
// session-level lock, pg_try_advisory_lock then pg_advisory_unlock: pglite-socket
// serves every connection on its one backend, where an open transaction is
// everyone's, and while one is open it runs only that connection's statements, so
// a BEGIN on the lock's connection would leave the run's own batches (and the
// whole app) waiting until it ends. There is no pooler in between, and the one
// session outlives the socket, hence the explicit unlock. That session-level lock
// is re-entrant across the connections, so a process-wide set of databases under
// retention keeps two runs of one process apart (PGlite has one process by
// construction; the set spares PostgreSQL a connection too).
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
  /** Notifications last changed before `cutoff`, and notification jobs finished (or never run) for a week. */
  deletedNotifications: number;
  /** Uploads cut off, or never sent, that were deleted; files deleted from the attachment storage. */
  abandonedUploads: number;
  attachmentFilesDeleted: number;
  /** False when another instance held the lock: it runs, this one stopped. */
  ran: boolean;
}

/** What a run reports after each batch it committed. */
export interface RetentionBatch {
  table: "messages" | "audit_log" | "notifications";
  deleted: number;
}

export interface RetentionRunOptions {
  batchSize?: number;
  now?: Date;
  signal?: AbortSignal;
  /** Default: AUDIT_RETENTION_DAYS. */
  auditRetentionDays?: number;
  /** Where attachment files are deleted from (default: the server's configured storage; none: files wait). */
  attachmentStorage?: AttachmentStorage;
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
      deletedNotifications: 0,
      abandonedUploads: 0,
      attachmentFilesDeleted: 0,
      ran: lock !== null,
    };
    if (!lock) return result;
    const batch = async (table: RetentionBatch["table"], remove: () => Promise<number>) => {
      await lock.check();
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
    while (!options.signal?.aborted) {
      const deleted = await batch("notifications", () => deleteNotificationsBatch(prisma, result.cutoff, now, batchSize));
      result.deletedNotifications += deleted;
      if (deleted < batchSize) break;
    }
    // Deleted messages' attachment rows went with them (cascade) and queued their files.
    const storage = options.attachmentStorage ?? attachmentRuntime()?.storage;
    if (storage && !options.signal?.aborted) {
      await lock.check();
      const swept = await sweepAttachments({ prisma, storage }, now);
      result.abandonedUploads = swept.abandonedUploads;
      result.attachmentFilesDeleted = swept.filesDeleted;
    }
    return result;
  } finally {
    await lock?.release();
  }
}

interface RunLock {
  /**
   * Before each batch: throws once the lock may be gone (its connection failed, or
   * its session no longer holds it). Its query also resets the idle timers.
   */
  check(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Upper bound of the lock transaction's idle time (between two checks: one batch,
 * whose transaction times out after 60 s). Replaces a server-wide
 * idle_in_transaction_session_timeout for this one transaction only.
 */
const LOCK_IDLE_TIMEOUT = "10min";

// The lock connection's statements carry no parameters (the key is a constant):
// pg sends those with the simple query protocol. One with parameters goes by the
// extended protocol, whose unnamed portal outlives the statement until the next
// one, and with it its snapshot: the idle transaction would hold back vacuum
// (backend_xmin set) for a whole batch.
const KEY = `${RETENTION_LOCK_KEY.toString()}::bigint`;

/** Whether this session holds the retention lock (session- or transaction-level). */
const LOCK_HELD_SQL = `
  SELECT EXISTS (
    SELECT 1 FROM pg_locks
     WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND pid = pg_backend_pid()
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND ((classid::int8 << 32) | objid::int8) = ${KEY}) AS held`;

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
  /** Transaction-level lock in an open transaction (PostgreSQL), or session-level (PGlite). */
  let inTransaction = false;
  // An error event without a listener would crash the process. The server ending
  // the session (idle_in_transaction_session_timeout, pg_terminate_backend) while
  // the connection is idle arrives here.
  client.on("error", (error) => {
    lost ??= error;
  });
  client.on("end", () => {
    if (!released) lost ??= new Error("the connection ended");
  });
  const close = async () => {
    released = true;
    // Ending the transaction releases a transaction-level lock; the session's end would too.
    if (inTransaction && !lost) await client.query("ROLLBACK").catch(() => undefined);
    await client.end().catch(() => undefined);
    runningHere.delete(connectionString);
  };
  try {
    await client.connect();
    const { rows } = await client.query<{ pglite: boolean }>("SELECT version() LIKE '%PGlite%' AS pglite");
    let locked: boolean | undefined;
    if (rows[0]?.pglite) {
      ({ locked } = (await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${KEY}) AS locked`)).rows[0] ?? {});
    } else {
      await client.query("BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY");
      inTransaction = true;
      await client.query(`SET LOCAL idle_in_transaction_session_timeout = '${LOCK_IDLE_TIMEOUT}'`);
      ({ locked } = (await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(${KEY}) AS locked`)).rows[0] ?? {});
    }
    if (!locked) {
      await close();
      return null;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    async check() {
      if (!lost) {
        try {
          const { rows } = await client.query<{ held: boolean }>(LOCK_HELD_SQL);
          if (!rows[0]?.held) lost = new Error("its session no longer holds the lock");
        } catch (error) {
          lost ??= error;
        }
      }
      if (lost) throw new Error("Retention lost its lock (its connection or session is gone) and stopped; the next run carries on.", { cause: lost });
    },
    async release() {
      // PGlite's one session outlives the socket: unlock explicitly. On PostgreSQL, close() rolls back.
      if (!inTransaction && !lost) await client.query(`SELECT pg_advisory_unlock(${KEY})`).catch(() => undefined);
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
      // Notifications quoting them go with them; a newer stored event of one keeps no text.
      await tx.$executeRaw`DELETE FROM notifications WHERE message_id = ANY(${messageIds}::uuid[])`;
      await tx.$executeRaw`
        UPDATE events SET payload = jsonb_set(payload, '{notification,body}', to_jsonb(${DELETED_PREVIEW}::text))
         WHERE message_id = ANY(${messageIds}::uuid[]) AND payload ? 'notification'`;
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

/** Jobs are kept a week after they end, for the operator; one that never ran in a week is stale. */
const NOTIFICATION_JOBS_KEPT_MS = 7 * DAY_MS;

/**
 * Notifications go with the messages' retention (announcements too), and the
 * notification jobs a week after they finished, or a week after they were queued
 * if no instance ran them (their channel was switched off).
 */
async function deleteNotificationsBatch(prisma: Db, cutoff: Date, now: Date, batchSize: number): Promise<number> {
  const notifications = await prisma.$executeRaw`
    DELETE FROM notifications WHERE id IN (
      SELECT id FROM notifications WHERE updated_at < ${cutoff} ORDER BY updated_at LIMIT ${batchSize})`;
  const jobsCutoff = new Date(now.getTime() - NOTIFICATION_JOBS_KEPT_MS);
  const jobs = await prisma.$executeRaw`
    DELETE FROM notification_jobs WHERE id IN (
      SELECT id FROM notification_jobs
       WHERE (status IN ('DONE', 'FAILED') AND finished_at < ${jobsCutoff}) OR created_at < ${jobsCutoff}
       ORDER BY id LIMIT ${batchSize})`;
  return Math.max(notifications, jobs);
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
  attachmentStorage?: AttachmentStorage;
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
    running = runRetention(options.prisma, {
      signal: controller.signal,
      auditRetentionDays: options.auditRetentionDays,
      attachmentStorage: options.attachmentStorage,
    })
      .then((result) => {
        finish(result.ran, false, result.deletedMessages, result.deletedAuditEntries);
        const deletedSomething = result.deletedMessages > 0 || result.deletedAuditEntries > 0 || result.attachmentFilesDeleted > 0 || result.abandonedUploads > 0;
        if (deletedSomething || !result.ran) options.log.info({ ...result }, "retention run");
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
