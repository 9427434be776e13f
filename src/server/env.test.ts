import { describe, expect, it } from "vitest";
import { initialMessagingSettings } from "~/features/settings/defaults";
import { EnvError, parseEnv } from "./env";

function errorOf(source: Record<string, string>): EnvError {
  try {
    parseEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return error;
    throw error;
  }
  throw new Error("expected parseEnv to fail");
}

describe("parseEnv", () => {
  it("gives working defaults for a newcomer: embedded database, port 3000", () => {
    const env = parseEnv({});
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.PORT).toBe(3000);
    expect(env.APP_URL).toBe("http://localhost:3000");
    expect(env.allowedOrigins).toEqual(["http://localhost:3000", "http://127.0.0.1:3000", "http://[::1]:3000"]);
    expect(env.DATA_DIR).toBe(".data");
  });

  it("names the variable when a value is bad", () => {
    expect(errorOf({ PORT: "http" }).message).toMatch(/PORT/);
    expect(errorOf({ DATABASE_URL: "mysql://x" }).message).toMatch(/DATABASE_URL: must be a postgres/);
    expect(errorOf({ REDIS_URL: "localhost:6379" }).message).toMatch(/REDIS_URL/);
    expect(errorOf({ ALLOWED_ORIGINS: "not a url" }).message).toMatch(/ALLOWED_ORIGINS/);
    expect(errorOf({ NEXTAUTH_SECRET: "short" }).message).toMatch(/NEXTAUTH_SECRET: must be at least 32/);
    expect(errorOf({ MESSAGING_MAX_MESSAGE_LENGTH: "50" }).message).toMatch(/MESSAGING_MAX_MESSAGE_LENGTH/);
  });

  it("keeps audit entries a year unless told otherwise, and never less than 30 days", () => {
    expect(parseEnv({}).AUDIT_RETENTION_DAYS).toBe(365);
    expect(parseEnv({ AUDIT_RETENTION_DAYS: "30" }).AUDIT_RETENTION_DAYS).toBe(30);
    expect(errorOf({ AUDIT_RETENTION_DAYS: "29" }).message).toMatch(/AUDIT_RETENTION_DAYS/);
    expect(errorOf({ AUDIT_RETENTION_DAYS: "a year" }).message).toMatch(/AUDIT_RETENTION_DAYS/);
  });

  it("requires a secret for a production database and paired credentials", () => {
    expect(errorOf({ NODE_ENV: "production", DATABASE_URL: "postgresql://db/app" }).message).toMatch(/NEXTAUTH_SECRET/);
    expect(errorOf({ ADMIN_EMAIL: "a@b.co" }).message).toMatch(/ADMIN_EMAIL \/ ADMIN_PASSWORD/);
    expect(errorOf({ GITHUB_ID: "x" }).message).toMatch(/GITHUB_ID/);
  });

  it("gives the initial attachment settings, checked as the settings page checks them", () => {
    const env = parseEnv({
      MESSAGING_ALLOW_FILE_ATTACHMENTS: "true",
      MESSAGING_MAX_FILE_SIZE: "1048576",
      MESSAGING_ALLOWED_FILE_TYPES: " image/* , application/PDF,image/*",
    });
    expect(initialMessagingSettings(env)).toMatchObject({
      allowFileAttachments: true,
      maxFileSize: 1_048_576,
      allowedFileTypes: ["image/*", "application/pdf"],
    });
    // Unset: the schema's defaults stand (nothing is written for them).
    expect(initialMessagingSettings(parseEnv({}))).not.toHaveProperty("allowedFileTypes");
    expect(initialMessagingSettings(parseEnv({}))).not.toHaveProperty("allowFileAttachments");
    // A demo installation starts with them on, unless the variable says otherwise.
    expect(initialMessagingSettings(parseEnv({}), { demo: true })).toMatchObject({ allowFileAttachments: true });
    expect(initialMessagingSettings(parseEnv({ MESSAGING_ALLOW_FILE_ATTACHMENTS: "false" }), { demo: true })).toMatchObject({ allowFileAttachments: false });
    expect(errorOf({ MESSAGING_MAX_FILE_SIZE: "10" }).message).toMatch(/MESSAGING_MAX_FILE_SIZE/);
    expect(errorOf({ MESSAGING_ALLOWED_FILE_TYPES: "png" }).message).toMatch(/MESSAGING_ALLOWED_FILE_TYPES\.0: Use a MIME type/);
    expect(errorOf({ MESSAGING_ALLOW_FILE_ATTACHMENTS: "true", MESSAGING_ALLOWED_FILE_TYPES: "," }).message).toMatch(
      /MESSAGING_ALLOWED_FILE_TYPES: Allow at least one file type/,
    );
  });

  it("gives the initial email digest timing, within the settings page's ranges", () => {
    expect(initialMessagingSettings(parseEnv({}))).toMatchObject({ emailDigestAfterMinutes: 15, emailDigestIntervalMinutes: 60 });
    const env = parseEnv({ MESSAGING_EMAIL_DIGEST_AFTER_MINUTES: "30", MESSAGING_EMAIL_DIGEST_INTERVAL_MINUTES: "1440" });
    expect(initialMessagingSettings(env)).toMatchObject({ emailDigestAfterMinutes: 30, emailDigestIntervalMinutes: 1440 });
    // The ends of each range are accepted.
    expect(parseEnv({ MESSAGING_EMAIL_DIGEST_AFTER_MINUTES: "5" }).MESSAGING_EMAIL_DIGEST_AFTER_MINUTES).toBe(5);
    expect(parseEnv({ MESSAGING_EMAIL_DIGEST_AFTER_MINUTES: "1440" }).MESSAGING_EMAIL_DIGEST_AFTER_MINUTES).toBe(1440);
    expect(parseEnv({ MESSAGING_EMAIL_DIGEST_INTERVAL_MINUTES: "15" }).MESSAGING_EMAIL_DIGEST_INTERVAL_MINUTES).toBe(15);
    expect(parseEnv({ MESSAGING_EMAIL_DIGEST_INTERVAL_MINUTES: "10080" }).MESSAGING_EMAIL_DIGEST_INTERVAL_MINUTES).toBe(10_080);
    // Empty: unset, the default stands.
    expect(initialMessagingSettings(parseEnv({ MESSAGING_EMAIL_DIGEST_AFTER_MINUTES: "" })).emailDigestAfterMinutes).toBe(15);
    for (const value of ["4", "1441", "7.5", "soon"]) {
      expect(errorOf({ MESSAGING_EMAIL_DIGEST_AFTER_MINUTES: value }).message).toMatch(/MESSAGING_EMAIL_DIGEST_AFTER_MINUTES/);
    }
    for (const value of ["14", "10081", "60.5", "hourly"]) {
      expect(errorOf({ MESSAGING_EMAIL_DIGEST_INTERVAL_MINUTES: value }).message).toMatch(/MESSAGING_EMAIL_DIGEST_INTERVAL_MINUTES/);
    }
  });

  it("treats empty strings as unset, as .env files write them", () => {
    const env = parseEnv({ DATABASE_URL: "", REDIS_URL: " ", NEXTAUTH_SECRET: "" });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
  });

  it("allows the app's own origin plus the configured ones", () => {
    const env = parseEnv({ APP_URL: "https://chat.example.com/", ALLOWED_ORIGINS: "https://admin.example.com, https://x.example.com/path" });
    expect(env.APP_URL).toBe("https://chat.example.com");
    expect(env.allowedOrigins).toEqual(["https://chat.example.com", "https://admin.example.com", "https://x.example.com"]);
  });
});
