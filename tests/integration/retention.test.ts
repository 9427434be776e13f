import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RETENTION_LOCK_KEY, runRetention, scheduleRetention, type RetentionResult } from "~/features/ops/retention";
import { createDatabase } from "~/server/db/client";
import type { Logger } from "~/server/logger";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// The retention run as a whole: one lock held from its first batch to its last
// (a second run meanwhile, here or on another instance, stops and deletes
// nothing), released at the end; and the audit log's own retention in the same run.
// On PostgreSQL the lock is transaction-level, in a transaction left idle for the
// run (no transaction id, no snapshot), which survives a short server-wide
// idle_in_transaction_session_timeout and, when its session is killed anyway,
// stops the run before its next batch.

const DAY = 24 * 60 * 60 * 1000;
let t: TestServer;

beforeAll(async () => {
  // No retention run of its own in the background: the tests call it.
  t = await startTestServer({ RETENTION_INTERVAL_MS: "0" });
});
afterAll(async () => {
  await t?.close();
});

/** Sessions of this database holding the retention lock (a PGlite's one session counts once). */
async function retentionLocksHeld(): Promise<number> {
  const [row] = await t.server.database.prisma.$queryRaw<{ held: number }[]>`
    SELECT count(*)::int AS held FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND ((l.classid::int8 << 32) | l.objid::int8) = ${RETENTION_LOCK_KEY}`;
  return row!.held;
}

/** PostgreSQL: the sessions of this database holding the retention lock, as pg_stat_activity sees them. */
async function retentionLockHolders() {
  return t.server.database.prisma.$queryRaw<
    { pid: number; application_name: string; state: string; backend_xid: string | null; backend_xmin: string | null }[]
  >`
    SELECT a.pid, a.application_name, a.state, a.backend_xid::text, a.backend_xmin::text
      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND ((l.classid::int8 << 32) | l.objid::int8) = ${RETENTION_LOCK_KEY}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function oldMessages(count: number, label: string): Promise<string[]> {
  const prisma = t.server.database.prisma;
  const [ana, ben] = await Promise.all([t.createUser({ name: `${label} Ana` }), t.createUser({ name: `${label} Ben` })]);
  const client = await t.client({ userId: ana.id, origin: TEST_APP_ORIGIN });
  const conversation = await client.api.conversations.createDirect.mutate({ recipientId: ben.id });
  const ids: string[] = [];
  for (let n = 0; n < count; n += 1) {
    const message = await client.api.messages.send.mutate({ conversationId: conversation.id, content: `${label} ${n}`, clientMessageId: `${label}-${n}` });
    ids.push(message.id);
  }
  const at = new Date(Date.now() - 200 * DAY);
  await prisma.message.updateMany({ where: { id: { in: ids } }, data: { createdAt: at } });
  await prisma.event.updateMany({ where: { messageId: { in: ids } }, data: { createdAt: at } });
  return ids;
}

describe("the retention lock", () => {
  it("is held for the whole run: a second run meanwhile stops and deletes nothing; afterwards it is free", async () => {
    const prisma = t.server.database.prisma;
    const ids = await oldMessages(3, "whole-run");
    expect(await retentionLocksHeld()).toBe(0);

    const during: {
      locksHeld: number;
      holders?: Awaited<ReturnType<typeof retentionLockHolders>>;
      left: number;
      second: RetentionResult;
      otherInstance?: RetentionResult;
    }[] = [];
    const result = await runRetention(prisma, {
      batchSize: 1,
      afterBatch: async ({ table }) => {
        if (table !== "messages" || during.length > 0) return;
        // Between two batches: no batch transaction is open, the lock must still be held.
        const locksHeld = await retentionLocksHeld();
        const holders = t.database.kind === "postgresql" ? await retentionLockHolders() : undefined;
        const second = await runRetention(prisma);
        let otherInstance: RetentionResult | undefined;
        if (t.database.kind === "postgresql") {
          // Another instance: its own pool and sessions on the same database (a URL of its own,
          // so only the database can tell it that a run is under way).
          const url = new URL(t.database.connectionString);
          url.searchParams.set("application_name", "chatline-other-instance");
          const other = createDatabase(url.toString(), { poolSize: 2 });
          try {
            otherInstance = await runRetention(other.prisma);
          } finally {
            await other.close();
          }
        }
        during.push({ locksHeld, holders, left: await prisma.message.count({ where: { id: { in: ids } } }), second, otherInstance });
      },
    });

    expect(result).toMatchObject({ ran: true, deletedMessages: 3, batches: 3 });
    expect(during).toHaveLength(1);
    const [meanwhile] = during;
    expect(meanwhile!.locksHeld).toBe(1);
    expect(meanwhile!.second).toMatchObject({ ran: false, deletedMessages: 0, deletedAuditEntries: 0, batches: 0 });
    if (t.database.kind === "postgresql") {
      expect(meanwhile!.otherInstance).toMatchObject({ ran: false, deletedMessages: 0, deletedAuditEntries: 0 });
      // Held by an open transaction of the run's own connection, idle between batches,
      // that has no transaction id and holds no snapshot (vacuum is not held back).
      expect(meanwhile!.holders).toEqual([
        expect.objectContaining({ application_name: "chatline-retention", state: "idle in transaction", backend_xid: null, backend_xmin: null }),
      ]);
    }
    // Neither of them touched the two messages the first run had not reached yet.
    expect(meanwhile!.left).toBe(2);
    expect(await prisma.message.count({ where: { id: { in: ids } } })).toBe(0);

    // Released: nothing holds it, and the next run (here or elsewhere) works.
    expect(await retentionLocksHeld()).toBe(0);
    const [later] = await oldMessages(1, "after-run");
    expect(await runRetention(prisma)).toMatchObject({ ran: true, deletedMessages: 1 });
    expect(await prisma.message.count({ where: { id: later } })).toBe(0);
    expect(await retentionLocksHeld()).toBe(0);
  });

  it("is released when the run fails", async () => {
    const prisma = t.server.database.prisma;
    await oldMessages(2, "failing-run");
    await expect(
      runRetention(prisma, {
        batchSize: 1,
        afterBatch: () => {
          throw new Error("boom");
        },
      }),
    ).rejects.toThrow("boom");
    expect(await retentionLocksHeld()).toBe(0);
    expect(await runRetention(prisma)).toMatchObject({ ran: true, deletedMessages: 1 });
  });

  it("PostgreSQL: when its session is killed mid-run, the run stops before its next batch and fails; the next run works", async (context) => {
    if (t.database.kind !== "postgresql") context.skip();
    const prisma = t.server.database.prisma;
    const ids = await oldMessages(3, "killed-run");
    let killed = 0;
    await expect(
      runRetention(prisma, {
        batchSize: 1,
        afterBatch: async ({ table }) => {
          if (table !== "messages" || killed > 0) return;
          const [holder] = await retentionLockHolders();
          killed = holder!.pid;
          await prisma.$queryRaw`SELECT pg_terminate_backend(${killed}::int)`;
          await vi.waitFor(
            async () => expect(await prisma.$queryRaw`SELECT 1 FROM pg_stat_activity WHERE pid = ${killed}::int`).toHaveLength(0),
            { timeout: 5_000, interval: 50 },
          );
        },
      }),
    ).rejects.toThrow("Retention lost its lock");
    expect(killed).toBeGreaterThan(0);
    // One batch went before the kill, none after it.
    expect(await prisma.message.count({ where: { id: { in: ids } } })).toBe(2);
    expect(await retentionLocksHeld()).toBe(0);
    expect(await runRetention(prisma)).toMatchObject({ ran: true });
    expect(await prisma.message.count({ where: { id: { in: ids } } })).toBe(0);
  });

  it("PostgreSQL: a server idle_in_transaction_session_timeout shorter than a pause between batches does not end the run", async (context) => {
    if (t.database.kind !== "postgresql") context.skip();
    const prisma = t.server.database.prisma;
    const ids = await oldMessages(3, "idle-timeout");
    const [{ name } = { name: "" }] = await prisma.$queryRaw<{ name: string }[]>`SELECT current_database() AS name`;
    await prisma.$executeRawUnsafe(`ALTER DATABASE "${name}" SET idle_in_transaction_session_timeout = '500ms'`);
    // New sessions get it: the run's lock connection and this instance's pool (closed
    // at the end, so no session with the setting outlives the test).
    const instance = createDatabase(t.database.connectionString, { poolSize: 2 });
    try {
      const probe = new pg.Client({ connectionString: t.database.connectionString });
      await probe.connect();
      try {
        expect((await probe.query("SHOW idle_in_transaction_session_timeout")).rows[0]).toEqual({ idle_in_transaction_session_timeout: "500ms" });
      } finally {
        await probe.end();
      }
      let paused = false;
      const result = await runRetention(instance.prisma, {
        batchSize: 1,
        afterBatch: async ({ table }) => {
          if (table !== "messages" || paused) return;
          paused = true;
          await sleep(1_500);
        },
      });
      expect(paused).toBe(true);
      expect(result).toMatchObject({ ran: true, deletedMessages: 3, batches: 3 });
      expect(await prisma.message.count({ where: { id: { in: ids } } })).toBe(0);
    } finally {
      await instance.close();
      await prisma.$executeRawUnsafe(`ALTER DATABASE "${name}" RESET idle_in_transaction_session_timeout`);
    }
  });
});

describe("audit retention", () => {
  it("deletes exactly the audit entries older than AUDIT_RETENTION_DAYS, in the same run", async () => {
    const prisma = t.server.database.prisma;
    const now = new Date();
    const days = 365;
    const cutoff = now.getTime() - days * DAY;
    const at = (offsetMs: number) => new Date(cutoff + offsetMs);
    const entries = [
      { label: "years old", createdAt: at(-3 * 365 * DAY), old: true },
      { label: "a day past", createdAt: at(-DAY), old: true },
      { label: "a second past", createdAt: at(-1000), old: true },
      { label: "a second inside", createdAt: at(1000), old: false },
      { label: "a month old", createdAt: new Date(now.getTime() - 30 * DAY), old: false },
      { label: "just now", createdAt: now, old: false },
    ];
    const created = await Promise.all(
      entries.map((entry) =>
        prisma.auditLog.create({ data: { action: "settings.updated", metadata: { label: entry.label }, createdAt: entry.createdAt }, select: { id: true } }),
      ),
    );
    const before = await prisma.auditLog.count();

    const result = await runRetention(prisma, { now, auditRetentionDays: days, batchSize: 2 });
    expect(result).toMatchObject({ ran: true, auditRetentionDays: days, deletedAuditEntries: 3 });
    expect(result.auditCutoff.getTime()).toBe(cutoff);
    const left = await prisma.auditLog.findMany({ where: { id: { in: created.map((row) => row.id) } }, select: { metadata: true } });
    expect(left.map((row) => (row.metadata as { label: string }).label).sort()).toEqual(
      entries.filter((entry) => !entry.old).map((entry) => entry.label).sort(),
    );
    expect(await prisma.auditLog.count()).toBe(before - 3);
    // Nothing older is left: a second run deletes nothing.
    expect(await runRetention(prisma, { now, auditRetentionDays: days })).toMatchObject({ deletedAuditEntries: 0 });
  });

  it("the scheduled run reports the audit entries it deleted, in its log and its last run", async () => {
    const prisma = t.server.database.prisma;
    await prisma.auditLog.create({ data: { action: "settings.updated", createdAt: new Date(Date.now() - 40 * DAY) } });
    // With the entries the case above left inside its 365 days.
    const expected = await prisma.auditLog.count({ where: { createdAt: { lt: new Date(Date.now() - 30 * DAY) } } });
    expect(expected).toBeGreaterThanOrEqual(1);
    const info = vi.fn();
    const log = { info, warn: vi.fn() } as unknown as Logger;
    const admin = await t.createUser({ name: "Retention Admin", roles: ["User", "Admin"] });
    const client = await t.client({ userId: admin.id, origin: TEST_APP_ORIGIN });
    const schedule = scheduleRetention({ prisma, log, intervalMs: 3_600_000, firstRunMs: 10, auditRetentionDays: 30 });
    try {
      await vi.waitFor(async () => {
        const lastRun = (await client.api.admin.retentionPreview.query()).schedule?.lastRun;
        expect(lastRun).toMatchObject({ ran: true, failed: false, deletedAuditEntries: expected });
        // The run connects, deletes and answers a call: more than the default second on a busy machine.
      }, { timeout: 10_000, interval: 100 });
      expect(info).toHaveBeenCalledWith(
        expect.objectContaining({ ran: true, deletedAuditEntries: expected, auditRetentionDays: 30 }),
        "retention run",
      );
      expect(await prisma.auditLog.count({ where: { createdAt: { lt: new Date(Date.now() - 30 * DAY) } } })).toBe(0);
    } finally {
      await schedule.stop();
    }
  });
});
