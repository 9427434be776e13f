import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeDigestEmail } from "~/features/notifications/email/digest-email";
import { createMailer, type Mailer } from "~/features/notifications/email/mailer";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";

// The mailer against a real SMTP server on loopback: what arrives is what a mail
// server would be handed. No database is involved.

const EMAIL_FROM = "Chatline <chat@example.com>";

describe("the mailer", () => {
  let sink: SmtpSink;
  let mailer: Mailer;

  beforeAll(async () => {
    sink = await startSmtpSink();
    mailer = createMailer({ smtpUrl: sink.url, from: EMAIL_FROM })!;
  });

  afterAll(async () => {
    mailer?.close();
    await sink?.close();
  });

  it("is off without SMTP_URL, and refuses one without EMAIL_FROM", () => {
    expect(createMailer({})).toBeNull();
    expect(createMailer({ from: EMAIL_FROM })).toBeNull();
    expect(() => createMailer({ smtpUrl: "smtp://127.0.0.1:2525" })).toThrow(/EMAIL_FROM/);
  });

  it("delivers a digest with both parts, from EMAIL_FROM, marked as sent automatically", async () => {
    const digest = composeDigestEmail({
      recipientName: "Bo",
      appName: "Chatline",
      appUrl: "https://chat.example.com",
      settingsPath: "/settings/notifications",
      conversations: [
        {
          title: "Ann Lee",
          link: "https://chat.example.com/c/ann",
          unreadCount: 2,
          messages: [
            { senderName: "Ann Lee", text: "Lunch at noon? 🍜", sentAt: new Date("2026-11-22T11:05:00Z") },
            { senderName: "Ann Lee", text: "<img src=x onerror=alert(1)>", sentAt: new Date("2026-11-22T11:06:00Z") },
          ],
        },
      ],
    });
    const to = `bo-${Date.now()}@example.com`;
    const { messageId } = await mailer.send({ to, ...digest, headers: { "List-Id": "Chatline digests <digest.chat.example.com>" } });

    const mail = await sink.waitForMail((received) => received.to.includes(to));
    expect(messageId).toMatch(/^<.+@.+>$/);
    expect(mail.headers["message-id"]).toBe(messageId);
    expect(mail.envelope).toEqual({ from: "chat@example.com", to: [to] });
    expect(mail.from).toBe('"Chatline" <chat@example.com>');
    expect(mail.subject).toBe("2 unread messages from Ann Lee");
    expect(mail.text).toBe(digest.text);
    expect(mail.text).toContain("Ann Lee: Lunch at noon? 🍜");
    expect(mail.html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(mail.html).toContain('href="https://chat.example.com/c/ann"');
    expect(mail.headers["auto-submitted"]).toBe("auto-generated");
    expect(mail.headers["x-auto-response-suppress"]).toBe("All");
    expect(mail.headers["list-id"]).toContain("digest.chat.example.com");
    expect(mail.raw).toMatch(/^Content-Type: multipart\/alternative/im);
  });

  it("rejects a send the server answers with a temporary error, and delivers the retry", async () => {
    const to = `retry-${Date.now()}@example.com`;
    const email = { to, subject: "Retry me", text: "once more", html: "<p>once more</p>" };
    sink.failNextDeliveries(1);
    const rejectedBefore = sink.rejected;

    await expect(mailer.send(email)).rejects.toMatchObject({ responseCode: 451 });
    expect(sink.rejected).toBe(rejectedBefore + 1);
    expect(sink.mails.some((mail) => mail.to.includes(to))).toBe(false);

    await mailer.send(email);
    const mail = await sink.waitForMail((received) => received.to.includes(to));
    expect(mail.subject).toBe("Retry me");
  });

  it("logs in with the credentials of the URL", async () => {
    const withLogin = createMailer({ smtpUrl: sink.url.replace("smtp://", "smtp://digest:s%40cret@"), from: EMAIL_FROM })!;
    try {
      const to = `login-${Date.now()}@example.com`;
      await withLogin.send({ to, subject: "Logged in", text: "hello", html: "<p>hello</p>" });
      expect((await sink.waitForMail((received) => received.to.includes(to))).user).toBe("digest");
    } finally {
      withLogin.close();
    }
  });

  it("fails fast when nothing answers", async () => {
    const closed = await startSmtpSink();
    const url = closed.url;
    await closed.close();
    const unreachable = createMailer({ smtpUrl: url, from: EMAIL_FROM })!;
    try {
      await expect(unreachable.send({ to: "x@example.com", subject: "s", text: "t", html: "<p>t</p>" })).rejects.toMatchObject({
        code: "ESOCKET",
      });
    } finally {
      unreachable.close();
    }
  });
});

describe("a sink that starts failing", () => {
  it("answers its first deliveries with 451 when asked to at start", async () => {
    const sink = await startSmtpSink({ failNext: 2 });
    const mailer = createMailer({ smtpUrl: sink.url, from: EMAIL_FROM })!;
    try {
      const email = { to: "bo@example.com", subject: "Third time", text: "t", html: "<p>t</p>" };
      await expect(mailer.send(email)).rejects.toThrow(/451/);
      await expect(mailer.send(email)).rejects.toThrow(/451/);
      await mailer.send(email);
      expect(sink.rejected).toBe(2);
      expect(sink.mails.map((mail) => mail.subject)).toEqual(["Third time"]);
    } finally {
      mailer.close();
      await sink.close();
    }
  });
});
