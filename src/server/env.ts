import { z } from "zod";
import { ATTACHMENTS_NEED_A_TYPE, fileTypeSchema, SETTINGS_RANGES } from "~/features/settings/contracts";

// Every environment variable the server reads, validated once. A bad value stops
// the start with a message naming the variable; .env.example lists them all.

const booleanFromString = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((value) => value === "true" || value === "1" || value === "yes");

const optionalNonEmpty = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

const commaList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  );

const postgresUrl = z
  .string()
  .trim()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), "must be a postgres:// or postgresql:// URL");

const smtpUrl = z
  .string()
  .trim()
  .refine((value) => /^smtps?:\/\//.test(value), "must be an smtp:// or smtps:// URL");

const redisUrl = z
  .string()
  .trim()
  .refine((value) => /^rediss?:\/\//.test(value), "must be a redis:// or rediss:// URL");

export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().default("0.0.0.0"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** The app's public origin; the default follows PORT. */
  APP_URL: optionalNonEmpty.pipe(z.url().optional()),
  /** Accounts one address may create an hour (each costs a deliberately slow password hash). */
  SIGN_UPS_PER_ADDRESS_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(20),
  /** How many reverse proxies we run in front of the app (they append to X-Forwarded-For). */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** Extra origins allowed to open the WebSocket and post to /api/trpc (comma-separated). */
  ALLOWED_ORIGINS: commaList.pipe(z.array(z.url("each entry must be an origin such as https://chat.example.com"))),
  /** Unset: embedded PGlite under DATA_DIR. */
  DATABASE_URL: optionalNonEmpty.pipe(postgresUrl.optional()),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Unset: real-time events stay inside this process. */
  REDIS_URL: optionalNonEmpty.pipe(redisUrl.optional()),
  DATA_DIR: z.string().default(".data"),
  /** Where uploaded files live on the local disk (default DATA_DIR/uploads); unused when S3_BUCKET is set. */
  UPLOADS_DIR: optionalNonEmpty,
  /** An S3-compatible bucket for uploaded files instead of the local disk. */
  S3_BUCKET: optionalNonEmpty,
  S3_REGION: optionalNonEmpty,
  /** A non-AWS service (MinIO, R2, ...): its URL. */
  S3_ENDPOINT: optionalNonEmpty.pipe(z.url().optional()),
  /** Unset: the SDK's default credentials (instance role, AWS_* variables). */
  S3_ACCESS_KEY_ID: optionalNonEmpty,
  S3_SECRET_ACCESS_KEY: optionalNonEmpty,
  /** Path-style URLs (bucket in the path), which most non-AWS services need. */
  S3_FORCE_PATH_STYLE: optionalNonEmpty.pipe(booleanFromString.optional()),
  /** Prepended to every key, to share a bucket ("chatline/"). */
  S3_PREFIX: optionalNonEmpty,
  /** Required with a real DATABASE_URL; generated and kept under DATA_DIR for the embedded database. */
  NEXTAUTH_SECRET: optionalNonEmpty.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  NEXTAUTH_URL: optionalNonEmpty.pipe(z.url().optional()),
  GITHUB_ID: optionalNonEmpty,
  GITHUB_SECRET: optionalNonEmpty,
  GOOGLE_CLIENT_ID: optionalNonEmpty,
  GOOGLE_CLIENT_SECRET: optionalNonEmpty,
  /** First admin on a real database (production); never demo users there. */
  ADMIN_EMAIL: optionalNonEmpty.pipe(z.email().optional()),
  ADMIN_PASSWORD: optionalNonEmpty.pipe(z.string().min(8, "must be at least 8 characters").optional()),
  ADMIN_NAME: z.string().default("Administrator"),
  /** Demo users: default on for the embedded database, off for a real one. */
  SEED_DEMO_USERS: optionalNonEmpty.pipe(booleanFromString.optional()),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** How long a user stays online after their last connection closes (reloads and blips reconnect within it). */
  PRESENCE_OFFLINE_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(5_000),
  /** Events one subscription may have waiting before typing/presence are shed and, at the limit, its socket is closed. */
  EVENT_QUEUE_CAPACITY: z.coerce.number().int().min(10).max(1_000_000).default(2_000),
  /** Unflushed bytes on a socket above which the server stops sending to it and lets its queue absorb. */
  EVENT_SOCKET_HIGH_WATER_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  /** How often an open event stream re-checks its session (expiry, disabled account, lost permission). */
  SOCKET_SESSION_CHECK_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /** tRPC calls one WebSocket connection may make per minute (more are refused; twice as many frames close it). */
  SOCKET_MESSAGES_PER_MINUTE: z.coerce.number().int().min(5).max(100_000).default(120),
  /** Seconds a graceful shutdown may take before the process exits anyway. */
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(1).max(120).default(10),
  /** How often the message retention job runs (the first run is a minute after start at most); 0 turns it off. */
  RETENTION_INTERVAL_MS: z.coerce.number().int().min(0).default(24 * 60 * 60 * 1000),
  /** Audit log entries older than this many days are deleted by the same retention run. */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(30).max(36_500).default(365),
  /** Bearer token for /api/metrics; without it the metrics answer only on loopback, not through a proxy. */
  METRICS_TOKEN: optionalNonEmpty.pipe(z.string().min(16, "must be at least 16 characters").optional()),
  // Initial messaging settings (the admin page changes them afterwards).
  /** The least time between two data exports by one person (GET /api/export). */
  EXPORT_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** How long a data export waits for a client that takes nothing before it cuts the download. */
  EXPORT_STALL_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3_600).default(30),
  // Notifications (issue 8): email digests for people who are away, web push.
  /** smtp:// or smtps:// with credentials in the URL; unset: no email is sent. */
  SMTP_URL: optionalNonEmpty.pipe(smtpUrl.optional()),
  /** The From of every email: "Chatline <chat@example.com>" or an address. */
  EMAIL_FROM: optionalNonEmpty,
  /** VAPID keys (`npx web-push generate-vapid-keys`); unset: no web push. */
  VAPID_PUBLIC_KEY: optionalNonEmpty,
  VAPID_PRIVATE_KEY: optionalNonEmpty,
  /** Who push services contact about our pushes: mailto: or https:; defaults to EMAIL_FROM's address or APP_URL. */
  VAPID_SUBJECT: optionalNonEmpty.pipe(z.string().regex(/^(mailto:|https:\/\/)/, "must start with mailto: or https://").optional()),
  /** Hosts browsers' push endpoints may be on (and their subdomains): the push services of Chrome, Firefox, Safari and Edge. */
  PUSH_SERVICE_HOSTS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? "fcm.googleapis.com,updates.push.services.mozilla.com,push.apple.com,notify.windows.com")
        .split(",")
        .map((host) => host.trim().toLowerCase())
        .filter(Boolean),
    ),
  /** How often each instance looks for due notification jobs (emails, pushes); new ones also wake it. */
  NOTIFICATION_JOBS_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  /** How often each instance looks for people who are due an email digest. */
  EMAIL_DIGEST_CHECK_MS: z.coerce.number().int().min(50).max(3_600_000).default(30_000),
  MESSAGING_ENABLED: optionalNonEmpty.pipe(booleanFromString.optional()),
  MESSAGING_MAX_MESSAGE_LENGTH: z.coerce.number().int().min(100).max(5000).optional(),
  MESSAGING_RETENTION_DAYS: z.coerce.number().int().min(7).max(365).optional(),
  MESSAGING_MAX_GROUP_PARTICIPANTS: z.coerce.number().int().min(2).max(100).optional(),
  MESSAGING_TYPING_INDICATOR_TIMEOUT_MS: z.coerce.number().int().min(1000).max(60_000).optional(),
  MESSAGING_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).optional(),
  /** Minutes offline before a member's unread messages go out as an email digest. */
  MESSAGING_EMAIL_DIGEST_AFTER_MINUTES: optionalNonEmpty.pipe(
    z.coerce.number<string>().int().min(SETTINGS_RANGES.emailDigestAfterMinutes.min).max(SETTINGS_RANGES.emailDigestAfterMinutes.max).optional(),
  ),
  /** The least time, in minutes, between two digest emails to one person. */
  MESSAGING_EMAIL_DIGEST_INTERVAL_MINUTES: optionalNonEmpty.pipe(
    z.coerce.number<string>().int().min(SETTINGS_RANGES.emailDigestIntervalMinutes.min).max(SETTINGS_RANGES.emailDigestIntervalMinutes.max).optional(),
  ),
  MESSAGING_ALLOW_FILE_ATTACHMENTS: optionalNonEmpty.pipe(booleanFromString.optional()),
  /** Bytes. */
  MESSAGING_MAX_FILE_SIZE: z.coerce
    .number()
    .int()
    .min(SETTINGS_RANGES.maxFileSize.min)
    .max(SETTINGS_RANGES.maxFileSize.max)
    .optional(),
  /** Comma-separated MIME types or families: "image/*,application/pdf". */
  MESSAGING_ALLOWED_FILE_TYPES: optionalNonEmpty
    .transform((value) => value?.split(",").map((item) => item.trim()).filter(Boolean))
    .pipe(z.array(fileTypeSchema).max(SETTINGS_RANGES.allowedFileTypes.max).optional()),
});

export type Env = z.infer<typeof envSchema> & { APP_URL: string; allowedOrigins: string[] };

export class EnvError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid environment:\n${issues.map((issue) => `  - ${issue}`).join("\n")}`);
    this.name = "EnvError";
  }
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new EnvError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
  }
  const env = parsed.data;
  const problems: string[] = [];
  if (env.NODE_ENV === "production" && env.DATABASE_URL && !env.NEXTAUTH_SECRET) {
    problems.push("NEXTAUTH_SECRET: required in production with a DATABASE_URL (at least 32 characters)");
  }
  if (env.MESSAGING_ALLOW_FILE_ATTACHMENTS && env.MESSAGING_ALLOWED_FILE_TYPES?.length === 0) {
    problems.push(`MESSAGING_ALLOWED_FILE_TYPES: ${ATTACHMENTS_NEED_A_TYPE}`);
  }
  if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) {
    problems.push("ADMIN_EMAIL / ADMIN_PASSWORD: set both or neither");
  }
  if (Boolean(env.GITHUB_ID) !== Boolean(env.GITHUB_SECRET)) {
    problems.push("GITHUB_ID / GITHUB_SECRET: set both or neither");
  }
  if (Boolean(env.GOOGLE_CLIENT_ID) !== Boolean(env.GOOGLE_CLIENT_SECRET)) {
    problems.push("GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET: set both or neither");
  }
  if (env.SMTP_URL && !env.EMAIL_FROM) {
    problems.push("EMAIL_FROM: required with SMTP_URL (the sender of digest emails)");
  }
  if (Boolean(env.VAPID_PUBLIC_KEY) !== Boolean(env.VAPID_PRIVATE_KEY)) {
    problems.push("VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY: set both or neither");
  }
  if (problems.length > 0) throw new EnvError(problems);

  const configuredUrl = env.APP_URL ?? env.NEXTAUTH_URL;
  const port = env.PORT || 3000;
  const appUrl = (configuredUrl ?? `http://localhost:${port}`).replace(/\/$/, "");
  // Unconfigured, the app is a local one: it answers on every loopback name.
  const loopbackOrigins = configuredUrl ? [] : [`http://127.0.0.1:${port}`, `http://[::1]:${port}`];
  const allowedOrigins = [
    ...new Set([new URL(appUrl).origin, ...loopbackOrigins, ...env.ALLOWED_ORIGINS.map((o) => new URL(o).origin)]),
  ];
  return { ...env, APP_URL: appUrl, allowedOrigins };
}

let cached: Env | undefined;

/** The validated environment of this process (parsed on first use). */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
