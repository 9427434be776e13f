import { SETTINGS_RANGES, type SettingsKey } from "./contracts";

// How the admin pages name each setting and show its values (the form, the history).

export const SETTING_LABELS: Record<SettingsKey, string> = {
  enabled: "Messaging on",
  maxMessageLength: "Maximum message length",
  messageRetentionDays: "Message retention",
  maxGroupParticipants: "Maximum group size",
  allowFileAttachments: "File attachments",
  maxFileSize: "Maximum file size",
  allowedFileTypes: "Allowed file types",
  typingIndicatorTimeout: "Typing indicator timeout",
  rateLimitPerMinute: "Send limit",
  emailDigestAfterMinutes: "Offline before a digest",
  emailDigestIntervalMinutes: "Time between digests",
};

/** The unit a number setting is counted in. */
export const SETTING_UNITS: Partial<Record<SettingsKey, string>> = {
  maxMessageLength: "characters",
  messageRetentionDays: "days",
  maxGroupParticipants: "people",
  maxFileSize: "bytes",
  typingIndicatorTimeout: "ms",
  rateLimitPerMinute: "messages a minute",
  emailDigestAfterMinutes: "minutes",
  emailDigestIntervalMinutes: "minutes",
};

const number = new Intl.NumberFormat("en");

/** "100 to 5,000 characters": the range a number setting accepts. */
export function settingRange(key: keyof typeof SETTINGS_RANGES & SettingsKey): string {
  const range = SETTINGS_RANGES[key];
  if (!("min" in range)) return "";
  return `${number.format(range.min)} to ${number.format(range.max)} ${SETTING_UNITS[key] ?? ""}`.trim();
}

/** A value as a person reads it: "On", "2,000 characters", "image/png, image/*", "none". */
export function formatSettingValue(key: SettingsKey, value: boolean | number | string | string[] | null): string {
  if (value === null) return "—";
  if (typeof value === "boolean") return value ? "On" : "Off";
  if (Array.isArray(value)) return value.length > 0 ? value.join(", ") : "none";
  if (typeof value === "number") return `${number.format(value)} ${SETTING_UNITS[key] ?? ""}`.trim();
  return value;
}
