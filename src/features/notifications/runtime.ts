import type { Agent as HttpsAgent } from "node:https";
import { getMessagingRuntime } from "~/features/events/runtime";
import type { Db } from "~/server/db/client";
import type { Env } from "~/server/env";
import type { Logger } from "~/server/logger";
import type { Realtime } from "~/server/realtime";
import { DigestScheduler, digestJobHandler } from "./email/email-digest";
import { createMailer, type Mailer } from "./email/mailer";
import { JobRunner, type JobHandler, type JobKind } from "./jobs";
import { MessageNotifier } from "./message-notifier";
import { toWireNotification } from "./notification-rows";
import type { NotificationChannels } from "./notifications.service";
import { pushJobHandler } from "./push/push-job";
import { createPushSender, type PushSender } from "./push/push-sender";

// The notification machinery of this process, started by the app server: the
// notifier (new messages → notifications), the jobs runner (emails, pushes) and
// the digest scheduler. Procedures read which channels exist from here.

export interface NotificationRuntime {
  channels: NotificationChannels;
  notifier: MessageNotifier;
  jobs: JobRunner;
  digests: DigestScheduler | null;
  close(): Promise<void>;
}

const globalForNotifications = globalThis as unknown as { __chatlineNotifications?: NotificationRuntime };

export interface NotificationRuntimeOptions {
  prisma: Db;
  realtime: Realtime;
  log: Logger;
  env: Pick<
    Env,
    "APP_URL" | "SMTP_URL" | "EMAIL_FROM" | "VAPID_PUBLIC_KEY" | "VAPID_PRIVATE_KEY" | "VAPID_SUBJECT" | "PUSH_SERVICE_HOSTS" | "NOTIFICATION_JOBS_POLL_MS" | "EMAIL_DIGEST_CHECK_MS"
  >;
  /** Tests give the fake push service's TLS agent. */
  pushAgent?: HttpsAgent;
}

/** Who push services may contact about our pushes: VAPID_SUBJECT, else EMAIL_FROM's address, else an address at APP_URL's host. */
export function vapidSubject(env: NotificationRuntimeOptions["env"]): string {
  if (env.VAPID_SUBJECT) return env.VAPID_SUBJECT;
  const address = env.EMAIL_FROM?.match(/<([^>]+)>/)?.[1] ?? env.EMAIL_FROM;
  if (address && /^[^\s@]+@[^\s@]+$/.test(address)) return `mailto:${address}`;
  return `mailto:notifications@${new URL(env.APP_URL).hostname}`;
}

export function startNotifications(options: NotificationRuntimeOptions): NotificationRuntime {
  const { prisma, realtime, log, env } = options;
  const mailer: Mailer | null = createMailer({ smtpUrl: env.SMTP_URL, from: env.EMAIL_FROM });
  const sender: PushSender | null = createPushSender({
    publicKey: env.VAPID_PUBLIC_KEY,
    privateKey: env.VAPID_PRIVATE_KEY,
    subject: vapidSubject(env),
    agent: options.pushAgent,
  });
  const channels: NotificationChannels = {
    email: Boolean(mailer),
    push: Boolean(sender),
    vapidPublicKey: sender?.publicKey ?? null,
    pushServiceHosts: env.PUSH_SERVICE_HOSTS,
  };
  const presence = () => getMessagingRuntime().presence;

  const handlers: Partial<Record<JobKind, JobHandler>> = {};
  if (mailer) handlers.EMAIL_DIGEST = digestJobHandler({ prisma, mailer, appUrl: env.APP_URL, appName: "Chatline", presence });
  if (sender) handlers.PUSH = pushJobHandler({ prisma, sender, log: log.child({ module: "push" }), presence });
  const jobs = new JobRunner({ prisma, log: log.child({ module: "notification-jobs" }), handlers, pollMs: env.NOTIFICATION_JOBS_POLL_MS });

  const notifier = new MessageNotifier({
    prisma,
    realtime,
    log: log.child({ module: "notifier" }),
    presence: { snapshotOf: (userIds) => presence().snapshotOf(userIds) },
    channels: () => ({ email: channels.email, push: channels.push }),
    onJobs: () => jobs.poke(),
    publishGrown: async (rows) => {
      const hub = getMessagingRuntime().hub;
      await Promise.all(
        rows.map((row) => hub.publishEphemeral({ userIds: [row.user_id], event: { type: "notification.updated", notification: toWireNotification(row) } })),
      );
    },
  });
  const stopListening = realtime.dispatcher.addListener((event) => {
    if (event.type === "message.created") notifier.poke();
  });
  const digests = mailer
    ? new DigestScheduler({ prisma, log: log.child({ module: "email-digest" }), presence, checkMs: env.EMAIL_DIGEST_CHECK_MS, onJobs: () => jobs.poke() })
    : null;

  notifier.start();
  jobs.start();
  digests?.start();
  if (!mailer) log.info("Email digests are off: set SMTP_URL and EMAIL_FROM to send them.");
  if (!sender) log.info("Web push is off: set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY to send it.");

  const runtime: NotificationRuntime = {
    channels,
    notifier,
    jobs,
    digests,
    async close() {
      stopListening();
      await notifier.stop();
      await digests?.stop();
      await jobs.stop();
      mailer?.close();
      if (globalForNotifications.__chatlineNotifications === runtime) globalForNotifications.__chatlineNotifications = undefined;
    },
  };
  globalForNotifications.__chatlineNotifications = runtime;
  return runtime;
}

/** The channels this server can use (none before the runtime started: a bundle that never starts it). */
export function notificationChannels(): NotificationChannels {
  return globalForNotifications.__chatlineNotifications?.channels ?? { email: false, push: false, vapidPublicKey: null, pushServiceHosts: [] };
}

export function notificationRuntime(): NotificationRuntime | undefined {
  return globalForNotifications.__chatlineNotifications;
}
