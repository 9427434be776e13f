import type { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";
import type { Logger } from "~/server/logger";

// The notification jobs queue: digest emails and web pushes, kept in
// `notification_jobs` so they survive a restart. A job is claimed in one
// statement (FOR UPDATE SKIP LOCKED: two instances never claim the same one) and
// leased: a RUNNING job whose lease ran out, because its instance died, is
// claimed again. A failure is retried with exponential backoff; a job that fails
// MAX_ATTEMPTS times, or with a PermanentJobError, is FAILED for good.
//
// Finished jobs are deleted by the retention run a week later (ops/retention.ts).
//
// Delivery is at least once: an instance that dies after the mail server took a
// digest and before the job was marked DONE leaves it to be sent again when the
// lease runs out. Nothing else sends twice.

export type JobKind = "EMAIL_DIGEST" | "PUSH";

export interface NewJob {
  kind: JobKind;
  userId: string;
  payload: Record<string, unknown>;
  runAt?: Date;
}

export interface ClaimedJob {
  id: bigint;
  kind: JobKind;
  userId: string;
  payload: Record<string, unknown>;
  /** This run included; also the lease's token: a run whose lease ran out and was claimed again records nothing. */
  attempts: number;
}

/** A failure that retrying cannot mend (a malformed payload, an address the server refuses for good). */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}

export type JobHandler = (job: ClaimedJob) => Promise<void>;

export const MAX_ATTEMPTS = 8;
/** Longer than any one job may take (SMTP and push requests time out well before). */
export const LEASE_MS = 2 * 60_000;
const CLAIM_LIMIT = 10;

/** 30 s, 1 min, 2 min, ... up to an hour, give or take a fifth so retries spread out. */
export function backoffMs(attempts: number, random = Math.random): number {
  const base = Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 60 * 60_000);
  return Math.round(base * (0.8 + random() * 0.4));
}

export async function enqueueJobs(tx: Prisma.TransactionClient | Db, jobs: NewJob[]): Promise<void> {
  if (jobs.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO notification_jobs (kind, user_id, payload, run_at)
    SELECT k::"NotificationJobKind", u, p, COALESCE(r, now())
      FROM unnest(${jobs.map((job) => job.kind)}::text[], ${jobs.map((job) => job.userId)}::uuid[],
                  ${jobs.map((job) => JSON.stringify(job.payload))}::jsonb[], ${jobs.map((job) => job.runAt ?? null)}::timestamptz[])
           AS j(k, u, p, r)`;
}

export interface JobRunnerDeps {
  prisma: Db;
  log: Logger;
  /** The kinds this instance can run; others are left to instances that can. */
  handlers: Partial<Record<JobKind, JobHandler>>;
  pollMs: number;
}

export class JobRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly deps: JobRunnerDeps) {}

  start(): void {
    if (Object.keys(this.deps.handlers).length === 0) return;
    this.schedule(this.deps.pollMs);
  }

  /** New jobs were committed: look now rather than at the next poll. */
  poke(): void {
    if (this.stopped || Object.keys(this.deps.handlers).length === 0) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Claims and runs due jobs until none is left; resolves with how many ran. */
  async runDue(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let ran = 0;
      try {
        do {
          this.again = false;
          for (;;) {
            const claimed = await this.claim();
            if (claimed.length === 0) break;
            await Promise.all(claimed.map((job) => this.run(job)));
            ran += claimed.length;
            if (this.stopped) break;
          }
        } while (this.again && !this.stopped);
      } catch (error) {
        this.deps.log.warn({ err: error }, "notification jobs: claiming failed; the next poll retries");
      } finally {
        this.running = null;
      }
      return ran;
    })();
    return this.running;
  }

  private schedule(delayMs: number) {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runDue().finally(() => this.schedule(this.deps.pollMs));
    }, delayMs);
    this.timer.unref();
  }

  private async claim(): Promise<ClaimedJob[]> {
    const kinds = Object.keys(this.deps.handlers);
    const rows = await this.deps.prisma.$queryRaw<{ id: bigint; kind: JobKind; user_id: string; payload: Record<string, unknown>; attempts: number }[]>`
      UPDATE notification_jobs j
         SET status = 'RUNNING', attempts = j.attempts + 1, locked_until = now() + ${LEASE_MS} * interval '1 millisecond'
       WHERE j.id IN (
         SELECT id FROM notification_jobs
          WHERE kind::text = ANY(${kinds}::text[])
            AND ((status = 'PENDING' AND run_at <= now()) OR (status = 'RUNNING' AND locked_until < now()))
          ORDER BY run_at
          LIMIT ${CLAIM_LIMIT}
          FOR UPDATE SKIP LOCKED)
      RETURNING j.id, j.kind::text AS kind, j.user_id, j.payload, j.attempts`;
    return rows.map((row) => ({ id: row.id, kind: row.kind, userId: row.user_id, payload: row.payload, attempts: row.attempts }));
  }

  private async run(job: ClaimedJob) {
    const handler = this.deps.handlers[job.kind];
    try {
      if (!handler) throw new PermanentJobError(`no handler for ${job.kind}`);
      await handler(job);
      await this.deps.prisma.$executeRaw`
        UPDATE notification_jobs SET status = 'DONE', finished_at = now(), locked_until = NULL, last_error = NULL
         WHERE id = ${job.id} AND status = 'RUNNING' AND attempts = ${job.attempts}`;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const final = error instanceof PermanentJobError || job.attempts >= MAX_ATTEMPTS;
      this.deps.log.warn({ err: error, jobId: job.id.toString(), kind: job.kind, attempts: job.attempts, final }, "notification job failed");
      await this.deps.prisma.$executeRaw`
        UPDATE notification_jobs
           SET status = ${final ? "FAILED" : "PENDING"}::"NotificationJobStatus", locked_until = NULL,
               last_error = ${message.slice(0, 1000)},
               run_at = now() + ${final ? 0 : backoffMs(job.attempts)} * interval '1 millisecond',
               finished_at = CASE WHEN ${final} THEN now() ELSE NULL END
         WHERE id = ${job.id} AND status = 'RUNNING' AND attempts = ${job.attempts}`.catch((updateError: unknown) =>
        this.deps.log.warn({ err: updateError }, "notification job: recording the failure failed; its lease runs out and it is retried"),
      );
    }
  }
}
