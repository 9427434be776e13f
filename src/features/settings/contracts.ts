import { z } from "zod";
import { auditCursorSchema } from "~/features/audit/contracts";

// The messaging settings (one row, id 1), shared by the settings procedures, the
// admin form (zodResolver) and the client's limits. The ranges are the design's;
// MESSAGING_* variables give the initial values within the same ranges.

export const SETTINGS_RANGES = {
  maxMessageLength: { min: 100, max: 5000 },
  messageRetentionDays: { min: 7, max: 365 },
  maxGroupParticipants: { min: 2, max: 100 },
  /** Milliseconds. */
  typingIndicatorTimeout: { min: 1_000, max: 60_000 },
  rateLimitPerMinute: { min: 1, max: 10_000 },
  /** Minutes offline before unread messages go out by email: 5 minutes to a day. */
  emailDigestAfterMinutes: { min: 5, max: 1_440 },
  /** Minutes between two digests to one person: 15 minutes to a week. */
  emailDigestIntervalMinutes: { min: 15, max: 10_080 },
  /** Bytes: 1 KiB to 100 MiB. */
  maxFileSize: { min: 1024, max: 100 * 1024 * 1024 },
  /** How many file types the list may hold. */
  allowedFileTypes: { max: 50 },
} as const;

function wholeNumber(label: string, range: { min: number; max: number }, unit = "") {
  const between = `${label} must be between ${range.min.toLocaleString("en")} and ${range.max.toLocaleString("en")}${unit}.`;
  return z
    .number({ error: `${label} must be a number.` })
    .int(`${label} must be a whole number.`)
    .min(range.min, between)
    .max(range.max, between);
}

/** A MIME type ("image/png") or a family of them ("image/*"). */
export const fileTypeSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/, "Use a MIME type such as image/png or image/*.");

const settingsFields = z.object({
  enabled: z.boolean({ error: "Say whether messaging is on." }),
  maxMessageLength: wholeNumber("The maximum message length", SETTINGS_RANGES.maxMessageLength, " characters"),
  messageRetentionDays: wholeNumber("Message retention", SETTINGS_RANGES.messageRetentionDays, " days"),
  maxGroupParticipants: wholeNumber("The maximum group size", SETTINGS_RANGES.maxGroupParticipants, " people"),
  allowFileAttachments: z.boolean({ error: "Say whether file attachments are allowed." }),
  maxFileSize: wholeNumber("The maximum file size", SETTINGS_RANGES.maxFileSize, " bytes"),
  allowedFileTypes: z
    .array(fileTypeSchema, { error: "Give the allowed file types as a list." })
    .max(SETTINGS_RANGES.allowedFileTypes.max, `List at most ${SETTINGS_RANGES.allowedFileTypes.max} file types.`)
    .refine((types) => new Set(types).size === types.length, "List each file type once."),
  typingIndicatorTimeout: wholeNumber("The typing indicator timeout", SETTINGS_RANGES.typingIndicatorTimeout, " ms"),
  rateLimitPerMinute: wholeNumber("The send limit", SETTINGS_RANGES.rateLimitPerMinute, " messages a minute"),
  emailDigestAfterMinutes: wholeNumber("The time offline before a digest", SETTINGS_RANGES.emailDigestAfterMinutes, " minutes"),
  emailDigestIntervalMinutes: wholeNumber("The time between email digests", SETTINGS_RANGES.emailDigestIntervalMinutes, " minutes"),
});

export const SETTINGS_KEYS = settingsFields.keyof().options;
export type SettingsKey = (typeof SETTINGS_KEYS)[number];

/** Attachments on need at least one type they may be. */
export const ATTACHMENTS_NEED_A_TYPE = "Allow at least one file type, or turn file attachments off.";

/** Every setting, checked as a whole (the admin form's contract). */
export const messagingSettingsSchema = settingsFields.superRefine((settings, ctx) => {
  if (settings.allowFileAttachments && settings.allowedFileTypes.length === 0) {
    ctx.addIssue({ code: "custom", path: ["allowedFileTypes"], message: ATTACHMENTS_NEED_A_TYPE });
  }
});
export type MessagingSettings = z.infer<typeof messagingSettingsSchema>;

/** settings.update: the settings to change; the others keep their values. */
export const updateMessagingSettingsInput = settingsFields
  .partial()
  .refine((input) => Object.values(input).some((value) => value !== undefined), "Change at least one setting.");
export type UpdateMessagingSettingsInput = z.infer<typeof updateMessagingSettingsInput>;

/** settings.get and settings.update: every setting, and who changed them last. */
export const messagingSettingsOutput = settingsFields.extend({
  updatedAt: z.date(),
  updatedBy: z.object({ id: z.uuid(), name: z.string() }).nullable(),
});
export type MessagingSettingsOutput = z.infer<typeof messagingSettingsOutput>;

/**
 * settings.public, and the settings.updated event: what any signed-in client needs
 * to know (whether messaging is on, and the limits its inputs follow).
 */
export const publicMessagingSettingsSchema = settingsFields.pick({
  enabled: true,
  maxMessageLength: true,
  maxGroupParticipants: true,
  typingIndicatorTimeout: true,
  allowFileAttachments: true,
  maxFileSize: true,
  allowedFileTypes: true,
});
export type PublicMessagingSettings = z.infer<typeof publicMessagingSettingsSchema>;

export function toPublicSettings(settings: PublicMessagingSettings): PublicMessagingSettings {
  return {
    enabled: settings.enabled,
    maxMessageLength: settings.maxMessageLength,
    maxGroupParticipants: settings.maxGroupParticipants,
    typingIndicatorTimeout: settings.typingIndicatorTimeout,
    allowFileAttachments: settings.allowFileAttachments,
    maxFileSize: settings.maxFileSize,
    allowedFileTypes: [...settings.allowedFileTypes],
  };
}

/** settings.history: the changes to the settings, newest first, a page at a time. */
export const settingsHistoryInput = z.object({
  cursor: auditCursorSchema.nullish(),
  limit: z.number().int().min(1).max(50).default(20),
});
export type SettingsHistoryInput = z.input<typeof settingsHistoryInput>;

const settingValueSchema = z.union([z.boolean(), z.number(), z.string(), z.array(z.string())]);

export const settingsChangeSchema = z.object({
  id: z.string(),
  at: z.date(),
  /** Null when the account that made the change was deleted since. */
  actor: z.object({ id: z.uuid(), name: z.string(), email: z.string() }).nullable(),
  /** Each changed setting, in the order of the form. */
  changes: z.array(z.object({ field: z.enum(SETTINGS_KEYS), from: settingValueSchema.nullable(), to: settingValueSchema.nullable() })),
});
export type SettingsChange = z.infer<typeof settingsChangeSchema>;

export const settingsHistoryOutput = z.object({
  items: z.array(settingsChangeSchema),
  nextCursor: z.string().nullable(),
});
export type SettingsHistoryOutput = z.infer<typeof settingsHistoryOutput>;
