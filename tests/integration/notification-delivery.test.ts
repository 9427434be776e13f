import webpush from "web-push";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DigestScheduler, digestJobHandler } from "~/features/notifications/email/email-digest";
import { createMailer } from "~/features/notifications/email/mailer";
import { JobRunner } from "~/features/notifications/jobs";
import { notificationRuntime } from "~/features/notifications/runtime";
import { runRetention } from "~/features/ops/retention";
import { createDatabase } from "~/server/db/client";
import { logger } from "~/server/logger";
import { collectEvents } from "../helpers/event-collector";
import { startPushService, type FakePushService } from "../helpers/push-service";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";
import { codeOf } from "../helpers/error-code";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// Email digests and web pushes for people who are away, against a real SMTP
// server (smtp-server) and a push service that checks VAPID and decrypts what it
// gets: digest timing (offline long enough, one per interval, nothing twice),
// retries with backoff, a lease that runs out, two instances, a push per burst,
// and expired subscriptions.

let t: TestServer;
let smtp: SmtpSink;
let push: FakePushService;

const quiet = logger.child({ module: "test" });

beforeAll(async () => {
  smtp = await startSmtpSink();
  push = await startPushService();
  const vapid = webpush.generateVAPIDKeys();
  t = await startTestServer(
    {
      SMTP_URL: smtp.url,
      EMAIL_FROM: "Chatline <chat@example.com>",
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      // The tests run the scheduler themselves; jobs still run when they are queued.
      EMAIL_DIGEST_CHECK_MS: "3600000",
      NOTIFICATION_JOBS_POLL_MS: "60000",
      PUSH_SERVICE_HOSTS: "127.0.0.1",
    },
    { pushAgent: push.agent },
  );
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
  await push?.close();
});

const runtime = () => notificationRuntime()!;
const sql = () => t.server.database.prisma;

async function person(name: string) {
  const user = await t.createUser({ name });
  const client = await t.client({ userId: user.id, origin: TEST_APP_ORIGIN });
  return { user, api: client.api, client };
}
type Person = Awaited<ReturnType<typeof person>>;

let sendCounter = 0;
async function send(from: Person, conversationId: string, content: string) {
  sendCounter += 1;
  const sent = await from.api.messages.send.mutate({ conversationId, content, clientMessageId: `delivery-${sendCounter}` });
  await runtime().notifier.drain();
  return sent;
}

async function offlineFor(userId: string, minutes: number) {
  await sql().$executeRaw`UPDATE users SET last_seen_at = now() - ${minutes} * interval '1 minute' WHERE id = ${userId}::uuid`;
}

const mailsTo = (email: string) => smtp.mails.filter((mail) => mail.to.includes(email));

async function jobsOf(userId: string, kind: "EMAIL_DIGEST" | "PUSH") {
  return sql().notificationJob.findMany({ where: { userId, kind }, orderBy: { id: "asc" } });
}

/** Queued jobs have all finished (the runner is woken when they are queued). */
async function jobsSettled(userId: string, kind: "EMAIL_DIGEST" | "PUSH") {
  await vi.waitFor(async () => {
    const jobs = await jobsOf(userId, kind);
    if (jobs.some((job) => job.status === "RUNNING" || (job.status === "PENDING" && job.runAt <= new Date()))) throw new Error("still running");
  });
  await runtime().jobs.runDue();
}

describe("email digests", () => {
  it("go to someone offline long enough, one per conversation summary, at most one per interval", async () => {
    const ana = await person("Ana Mailer");
    const ben = await person("Ben Away");
    const cat = await person("Cat Mailer");
    const direct = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const group = await cat.api.conversations.createGroup.mutate({ name: "Garden club", participantIds: [ben.user.id, ana.user.id] });
    await send(ana, direct.id, "Are we still on for Friday?");
    await send(ana, direct.id, "Bring the <b>plans</b> & snacks");
    await send(cat, group.id, "Tomatoes are in");

    // Offline, but not yet for the settings' 15 minutes: nothing.
    await offlineFor(ben.user.id, 5);
    await runtime().digests!.runOnce();
    expect(await jobsOf(ben.user.id, "EMAIL_DIGEST")).toEqual([]);

    await offlineFor(ben.user.id, 20);
    expect(await runtime().digests!.runOnce()).toBeGreaterThanOrEqual(1);
    const mail = await smtp.waitForMail((received) => received.to.includes(ben.user.email));
    expect(mail.from).toContain("chat@example.com");
    expect(mail.subject).toBe("3 unread messages in 2 conversations");
    expect(mail.text).toContain("Are we still on for Friday?");
    expect(mail.text).toContain("Tomatoes are in");
    expect(mail.text).toContain(`${TEST_APP_ORIGIN}/messages/${direct.id}`);
    expect(mail.text).toContain(`${TEST_APP_ORIGIN}/messages/${group.id}`);
    expect(mail.html).toContain("&lt;b&gt;plans&lt;/b&gt; &amp; snacks");
    expect(mail.html).not.toContain("<b>plans</b>");
    // Ana and Cat were not away long enough (they were never seen, and were created just now).
    expect(mailsTo(ana.user.email)).toEqual([]);

    // More messages within the interval: no second mail.
    await send(ana, direct.id, "Hello again");
    await runtime().digests!.runOnce();
    await jobsSettled(ben.user.id, "EMAIL_DIGEST");
    expect(mailsTo(ben.user.email)).toHaveLength(1);

    // The interval has passed: the next digest holds only what came since the last one.
    await sql().$executeRaw`UPDATE email_digest_state SET last_sent_at = last_sent_at - interval '2 hours' WHERE user_id = ${ben.user.id}::uuid`;
    await runtime().digests!.runOnce();
    const second = await smtp.waitForMail((received) => received.to.includes(ben.user.email) && received !== mail);
    expect(second.subject).toBe("1 unread message from Ana Mailer");
    expect(second.text).toContain("Hello again");
    expect(second.text).not.toContain("Friday");
  });

  it("waits for someone online, in do-not-disturb, or with email off; and sends nothing once they read it", async () => {
    const ana = await person("Ana Waits");
    const ben = await person("Ben Online");
    const direct = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    await offlineFor(ben.user.id, 60);

    // Connected now: last_seen_at is old, but they are here.
    const stream = collectEvents(ben.client);
    await stream.ready();
    await send(ana, direct.id, "you are here");
    await runtime().digests!.runOnce();
    expect(await jobsOf(ben.user.id, "EMAIL_DIGEST")).toEqual([]);
    stream.stop();
    await vi.waitFor(async () => {
      const [presence] = await ben.api.presence.get.query({ userIds: [ben.user.id] });
      expect(presence!.status).toBe("offline");
    });
    await offlineFor(ben.user.id, 60);

    // Inside a do-not-disturb window around now: postponed.
    const hour = (offset: number) => `${String((new Date().getUTCHours() + offset + 24) % 24).padStart(2, "0")}:00`;
    await ben.api.notifications.preferences.update.mutate({ doNotDisturb: { enabled: true, start: hour(-1), end: hour(1), timeZone: "UTC" } });
    await runtime().digests!.runOnce();
    expect(await jobsOf(ben.user.id, "EMAIL_DIGEST")).toEqual([]);
    await ben.api.notifications.preferences.update.mutate({ doNotDisturb: { enabled: false } });

    // Read before the job ran: the job finds nothing unread and sends nothing.
    const last = await ana.api.messages.list.query({ conversationId: direct.id, limit: 1 });
    await ben.api.conversations.markAsRead.mutate({ conversationId: direct.id, upToSeq: last.items.at(-1)!.seq });
    await runtime().digests!.runOnce();
    await jobsSettled(ben.user.id, "EMAIL_DIGEST");
    expect((await jobsOf(ben.user.id, "EMAIL_DIGEST")).map((job) => job.status)).toEqual(["DONE"]);
    expect(mailsTo(ben.user.email)).toEqual([]);

    // Email turned off: nothing is kept for a digest.
    const cat = await person("Cat No Email");
    const other = await ana.api.conversations.createDirect.mutate({ recipientId: cat.user.id });
    await cat.api.notifications.preferences.update.mutate({ categories: { SOCIAL: { email: false } } });
    await send(ana, other.id, "no mail for you");
    await offlineFor(cat.user.id, 60);
    await runtime().digests!.runOnce();
    expect(await jobsOf(cat.user.id, "EMAIL_DIGEST")).toEqual([]);
  });

  it("retries a failed delivery with backoff, and claims again a job whose instance died", async () => {
    const ana = await person("Ana Retry");
    const ben = await person("Ben Retry");
    const direct = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    await send(ana, direct.id, "first try fails");
    await offlineFor(ben.user.id, 60);
    smtp.failNextDeliveries(1);
    await runtime().digests!.runOnce();
    await vi.waitFor(async () => {
      const [job] = await jobsOf(ben.user.id, "EMAIL_DIGEST");
      expect(job).toMatchObject({ status: "PENDING", attempts: 1 });
      expect(job!.lastError).toContain("451");
      // Backoff: the next attempt is about 30 s away, not now.
      expect(job!.runAt.getTime()).toBeGreaterThan(Date.now() + 15_000);
    });
    expect(mailsTo(ben.user.email)).toEqual([]);

    await sql().$executeRaw`UPDATE notification_jobs SET run_at = now() WHERE user_id = ${ben.user.id}::uuid`;
    await runtime().jobs.runDue();
    await smtp.waitForMail((mail) => mail.to.includes(ben.user.email));
    expect(await jobsOf(ben.user.id, "EMAIL_DIGEST")).toEqual([expect.objectContaining({ status: "DONE", attempts: 2, lastError: null })]);

    // An instance that claimed a job and died: its lease runs out and another runs it.
    await sql().$executeRaw`
      INSERT INTO notification_jobs (kind, user_id, payload, status, attempts, locked_until)
      VALUES ('EMAIL_DIGEST', ${ben.user.id}::uuid,
              ${JSON.stringify({ since: new Date(Date.now() - 3_600_000).toISOString(), until: new Date().toISOString() })}::jsonb,
              'RUNNING', 1, now() - interval '1 second')`;
    await sql().$executeRaw`UPDATE conversation_participants SET last_read_seq = 0 WHERE user_id = ${ben.user.id}::uuid`;
    await runtime().jobs.runDue();
    await vi.waitFor(() => expect(mailsTo(ben.user.email)).toHaveLength(2));
  });

  it.skipIf(process.env.DATABASE_URL === undefined)(
    "go out once per person when two instances schedule and send at the same time (PostgreSQL)",
    async () => {
      const ana = await person("Ana Twice");
      const people = await Promise.all(Array.from({ length: 12 }, (_, index) => person(`Twin ${index}`)));
      for (const someone of people) {
        const chat = await ana.api.conversations.createDirect.mutate({ recipientId: someone.user.id });
        await send(ana, chat.id, `hello ${someone.user.name}`);
        await offlineFor(someone.user.id, 60);
      }
      // Two instances: each its own pool, scheduler, job runner and SMTP connection.
      const instances = [0, 1].map(() => {
        const database = createDatabase(t.database.connectionString, { poolSize: 4 });
        const presence = () => ({
          snapshotOf: async (ids: string[]) => new Map(ids.map((id) => [id, { status: "offline" as const, viewing: new Set<string>() }])),
        });
        const mailer = createMailer({ smtpUrl: smtp.url, from: "Chatline <chat@example.com>" })!;
        const jobs = new JobRunner({
          prisma: database.prisma,
          log: quiet,
          pollMs: 60_000,
          handlers: { EMAIL_DIGEST: digestJobHandler({ prisma: database.prisma, mailer, appUrl: TEST_APP_ORIGIN, appName: "Chatline", presence }) },
        });
        const digests = new DigestScheduler({ prisma: database.prisma, log: quiet, presence, checkMs: 60_000, onJobs: () => undefined });
        return { database, jobs, digests, mailer };
      });
      try {
        for (let round = 0; round < 3; round += 1) {
          await Promise.all(instances.map((instance) => instance.digests.runOnce()));
          await Promise.all(instances.map((instance) => instance.jobs.runDue()));
        }
        // The server's own runner may have taken some of them: wait for every job to finish.
        for (const someone of people) await jobsSettled(someone.user.id, "EMAIL_DIGEST");
        for (const someone of people) {
          expect(await jobsOf(someone.user.id, "EMAIL_DIGEST")).toHaveLength(1);
          expect(mailsTo(someone.user.email)).toHaveLength(1);
        }
      } finally {
        for (const instance of instances) {
          instance.mailer.close();
          await instance.database.close();
        }
      }
    },
  );
});

describe("web push", () => {
  it("pushes the first message of a burst to a browser of someone away, and again after they read it", async () => {
    const ana = await person("Ana Pusher");
    const ben = await person("Ben Pushed");
    const direct = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const browser = push.createSubscription();
    await ben.api.notifications.push.subscribe.mutate({
      endpoint: browser.keys.endpoint,
      keys: { p256dh: browser.keys.p256dh, auth: browser.keys.auth },
    });
    expect((await ben.api.notifications.preferences.get.query()).available).toEqual({ email: true, push: true });
    // Only a push service's address: the server would POST to anything else.
    expect(
      await codeOf(
        ben.api.notifications.push.subscribe.mutate({ endpoint: "https://intranet.example.com/admin", keys: { p256dh: browser.keys.p256dh, auth: browser.keys.auth } }),
      ),
    ).toBe("BAD_REQUEST");
    const pushesToBen = () => push.received.filter((received) => received.endpoint === browser.keys.endpoint);

    const first = await send(ana, direct.id, "Knock knock");
    const received = await push.waitForPush((p) => p.endpoint === browser.keys.endpoint);
    expect(received.payload).toMatchObject({ title: "Ana Pusher", body: "Knock knock", link: `/messages/${direct.id}`, tag: `conversation:${direct.id}` });

    // The rest of the burst grows the bell's notification and pushes nothing.
    await send(ana, direct.id, "Who's there?");
    await jobsSettled(ben.user.id, "PUSH");
    expect(pushesToBen()).toHaveLength(1);

    // Read: the next message is a new burst.
    await ben.api.conversations.markAsRead.mutate({ conversationId: direct.id, upToSeq: first.seq + 1 });
    await send(ana, direct.id, "Lettuce");
    await vi.waitFor(() => expect(pushesToBen()).toHaveLength(2));

    // At the app (a live connection): the bell, no push.
    await ben.api.conversations.markAsRead.mutate({ conversationId: direct.id, upToSeq: first.seq + 2 });
    const stream = collectEvents(ben.client);
    await stream.ready();
    await send(ana, direct.id, "Lettuce who?");
    await jobsSettled(ben.user.id, "PUSH");
    expect(pushesToBen()).toHaveLength(2);
    await vi.waitFor(() => expect(stream.ofType("notification.upserted").length).toBeGreaterThan(0));
    stream.stop();
  });

  it("removes a subscription the push service has forgotten", async () => {
    const ana = await person("Ana Expired");
    const ben = await person("Ben Expired");
    const direct = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const browser = push.createSubscription();
    await ben.api.notifications.push.subscribe.mutate({
      endpoint: browser.keys.endpoint,
      keys: { p256dh: browser.keys.p256dh, auth: browser.keys.auth },
    });
    push.expire(browser.keys.endpoint);
    await send(ana, direct.id, "anyone?");
    await jobsSettled(ben.user.id, "PUSH");
    await vi.waitFor(async () => expect(await sql().pushSubscription.count({ where: { userId: ben.user.id } })).toBe(0));
    expect((await jobsOf(ben.user.id, "PUSH")).map((job) => job.status)).toEqual(["DONE"]);
  });
});

describe("retention", () => {
  it("deletes notifications as old as the messages it deletes, and notification jobs a week old", async () => {
    const ben = await person("Ben Old");
    const prisma = sql();
    const old = new Date(Date.now() - 400 * 24 * 3_600_000);
    const [kept, gone] = await Promise.all([
      prisma.notification.create({ data: { userId: ben.user.id, category: "SYSTEM", title: "recent" } }),
      prisma.notification.create({ data: { userId: ben.user.id, category: "SYSTEM", title: "ancient", createdAt: old, updatedAt: old } }),
    ]);
    await prisma.$executeRaw`UPDATE notifications SET updated_at = ${old} WHERE id = ${gone.id}::uuid`;
    const weekAgo = new Date(Date.now() - 8 * 24 * 3_600_000);
    await prisma.notificationJob.createMany({
      data: [
        { kind: "PUSH", userId: ben.user.id, status: "DONE", finishedAt: weekAgo, createdAt: weekAgo },
        { kind: "PUSH", userId: ben.user.id, status: "PENDING", runAt: new Date(Date.now() + 3_600_000), createdAt: weekAgo },
        { kind: "PUSH", userId: ben.user.id, status: "PENDING", runAt: new Date(Date.now() + 3_600_000) },
      ],
    });
    const result = await runRetention(prisma);
    expect(result.deletedNotifications).toBeGreaterThan(0);
    expect((await prisma.notification.findMany({ where: { userId: ben.user.id } })).map((row) => row.id)).toEqual([kept.id]);
    expect(await prisma.notificationJob.count({ where: { userId: ben.user.id } })).toBe(1);
  });
});
