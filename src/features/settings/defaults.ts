import type { Env } from "~/server/env";

/**
 * The initial messaging settings: the design's defaults, overridden by MESSAGING_*
 * variables. A demo installation (demo users on an embedded database) starts
 * with file attachments on, so the first start shows them; anywhere else an
 * admin turns them on.
 */
export function initialMessagingSettings(env: Env, options: { demo?: boolean } = {}) {
  return {
    enabled: env.MESSAGING_ENABLED ?? true,
    maxMessageLength: env.MESSAGING_MAX_MESSAGE_LENGTH ?? 2000,
    messageRetentionDays: env.MESSAGING_RETENTION_DAYS ?? 90,
    maxGroupParticipants: env.MESSAGING_MAX_GROUP_PARTICIPANTS ?? 50,
    typingIndicatorTimeout: env.MESSAGING_TYPING_INDICATOR_TIMEOUT_MS ?? 5000,
    rateLimitPerMinute: env.MESSAGING_RATE_LIMIT_PER_MINUTE ?? 60,
    emailDigestAfterMinutes: env.MESSAGING_EMAIL_DIGEST_AFTER_MINUTES ?? 15,
    emailDigestIntervalMinutes: env.MESSAGING_EMAIL_DIGEST_INTERVAL_MINUTES ?? 60,
    // Unset, the attachment settings take the schema's defaults (off, 5 MiB, common images and PDF).
    ...(env.MESSAGING_ALLOW_FILE_ATTACHMENTS === undefined
      ? options.demo
        ? { allowFileAttachments: true }
        : {}
      : { allowFileAttachments: env.MESSAGING_ALLOW_FILE_ATTACHMENTS }),
    ...(env.MESSAGING_MAX_FILE_SIZE === undefined ? {} : { maxFileSize: env.MESSAGING_MAX_FILE_SIZE }),
    ...(env.MESSAGING_ALLOWED_FILE_TYPES === undefined ? {} : { allowedFileTypes: [...new Set(env.MESSAGING_ALLOWED_FILE_TYPES)] }),
  };
}
