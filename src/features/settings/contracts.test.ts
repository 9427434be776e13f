import { describe, expect, it } from "vitest";
import { parseEnv } from "~/server/env";
import {
  messagingSettingsSchema,
  publicMessagingSettingsSchema,
  SETTINGS_KEYS,
  SETTINGS_RANGES,
  toPublicSettings,
  updateMessagingSettingsInput,
  type MessagingSettings,
} from "./contracts";
import { initialMessagingSettings } from "./defaults";
import { formatSettingValue, SETTING_LABELS, settingRange } from "./setting-labels";

// The shared contract: what the admin form and settings.update accept. (Through
// the API, with the stored row: tests/integration/settings.test.ts.)

const valid: MessagingSettings = {
  enabled: true,
  maxMessageLength: 2000,
  messageRetentionDays: 90,
  maxGroupParticipants: 50,
  allowFileAttachments: false,
  maxFileSize: 5_242_880,
  allowedFileTypes: ["image/png"],
  typingIndicatorTimeout: 5000,
  rateLimitPerMinute: 60,
  emailDigestAfterMinutes: 15,
  emailDigestIntervalMinutes: 60,
};

/** The field errors of an update, or undefined when it is accepted. */
function fieldErrors(input: Record<string, unknown>): Record<string, string[] | undefined> | undefined {
  const result = updateMessagingSettingsInput.safeParse(input);
  if (result.success) return undefined;
  const errors: Record<string, string[]> = {};
  for (const issue of result.error.issues) (errors[String(issue.path[0])] ??= []).push(issue.message);
  return errors;
}

describe("the messaging settings contract", () => {
  it("accepts every setting at its default", () => {
    expect(messagingSettingsSchema.parse(valid)).toEqual(valid);
    // The seed writes these for a fresh install.
    expect(initialMessagingSettings(parseEnv({}))).toMatchObject({ emailDigestAfterMinutes: 15, emailDigestIntervalMinutes: 60 });
  });

  it("has a label for every setting", () => {
    for (const key of SETTINGS_KEYS) expect(SETTING_LABELS[key]).toBeTruthy();
    expect(SETTINGS_KEYS).toEqual(expect.arrayContaining(["emailDigestAfterMinutes", "emailDigestIntervalMinutes"]));
  });

  it.each([
    ["emailDigestAfterMinutes", 5, 1440, "The time offline before a digest must be between 5 and 1,440 minutes."],
    ["emailDigestIntervalMinutes", 15, 10_080, "The time between email digests must be between 15 and 10,080 minutes."],
  ] as const)("takes %s from %i to %i minutes, and says so otherwise", (key, min, max, message) => {
    expect(SETTINGS_RANGES[key]).toEqual({ min, max });
    expect(fieldErrors({ [key]: min })).toBeUndefined();
    expect(fieldErrors({ [key]: max })).toBeUndefined();
    expect(fieldErrors({ [key]: min - 1 })).toEqual({ [key]: [message] });
    expect(fieldErrors({ [key]: max + 1 })).toEqual({ [key]: [message] });
    expect(fieldErrors({ [key]: min + 0.5 })![key]![0]).toMatch(/must be a whole number\.$/);
    expect(fieldErrors({ [key]: "30" })![key]![0]).toMatch(/must be a number\.$/);
    // The form checks the whole set with the same rules.
    expect(messagingSettingsSchema.safeParse({ ...valid, [key]: max + 1 }).success).toBe(false);
  });

  it("shows the digest timing in minutes on the form and in the history", () => {
    expect(settingRange("emailDigestAfterMinutes")).toBe("5 to 1,440 minutes");
    expect(settingRange("emailDigestIntervalMinutes")).toBe("15 to 10,080 minutes");
    expect(formatSettingValue("emailDigestIntervalMinutes", 1440)).toBe("1,440 minutes");
  });

  it("keeps the digest timing out of the public view", () => {
    const view = toPublicSettings(valid);
    expect(view).not.toHaveProperty("emailDigestAfterMinutes");
    expect(view).not.toHaveProperty("emailDigestIntervalMinutes");
    expect(Object.keys(publicMessagingSettingsSchema.shape)).not.toContain("emailDigestAfterMinutes");
    expect(Object.keys(publicMessagingSettingsSchema.shape)).not.toContain("emailDigestIntervalMinutes");
  });
});
