// Sends the app's emails (digests for people who are away) over SMTP, configured
// by SMTP_URL and EMAIL_FROM; without SMTP_URL the app sends no email at all.
import nodemailer from "nodemailer";
// The transport class itself (the file, as Node's ESM resolver wants it), because
// createTransport(url) keeps only what the URL says and drops every other option.
import SMTPTransport from "nodemailer/lib/smtp-transport/index.js";

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string>;
}

export interface Mailer {
  /** Rejects with the SMTP error (a 4xx or 5xx, a refused or timed-out connection): the job queue retries. */
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
  close(): void;
}

// Nodemailer waits minutes by default; a dead or silent server should fail the job
// soon enough for its retry, not hold a worker. The URL may still set its own
// (smtp://host?connectionTimeout=30000), as it may set tls.* and the like.
const CONNECTION_TIMEOUT_MS = 10_000;
const GREETING_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 20_000;

// Marks every mail as sent by a machine, so vacation responders and the like do not
// answer it: Auto-Submitted is the standard (RFC 3834), the other is Exchange's own.
const AUTOMATED_HEADERS = { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All" };

/** The mailer for `smtpUrl` (smtp:// or smtps://, credentials in the URL), or null when it is unset. */
export function createMailer(config: { smtpUrl?: string; from?: string }): Mailer | null {
  if (!config.smtpUrl) return null;
  if (!config.from) throw new Error("EMAIL_FROM is required with SMTP_URL (the sender of every email)");
  const from = config.from;
  // One connection per mail rather than a pool: digests are rare, and nothing is left open between jobs.
  const transport = nodemailer.createTransport(
    new SMTPTransport({
      url: config.smtpUrl,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      greetingTimeout: GREETING_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
    }),
  );
  return {
    async send(email) {
      const info = await transport.sendMail({
        from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        headers: { ...email.headers, ...AUTOMATED_HEADERS },
        // The content is only ever these strings; never let it name a file or URL to read.
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      return { messageId: info.messageId };
    },
    close() {
      transport.close();
    },
  };
}
