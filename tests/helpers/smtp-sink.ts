import type { AddressInfo } from "node:net";
import { simpleParser, type AddressObject } from "mailparser";
import { SMTPServer } from "smtp-server";

// A real SMTP server on loopback that keeps every mail it is sent, parsed, so tests
// check what a mail server would really receive. Plain SMTP: STARTTLS is not offered,
// so nodemailer (which upgrades only when offered) sends over smtp:// without certificates.

export interface ReceivedMail {
  /** What the client said in MAIL FROM and RCPT TO, where the mail was delivered. */
  envelope: { from: string; to: string[] };
  /** The user it logged in as, when the SMTP URL had credentials. */
  user: string | undefined;
  /** The From header as written: "Chatline <chat@example.com>". */
  from: string;
  /** The addresses of the To header. */
  to: string[];
  subject: string;
  text: string;
  /** "" when the mail has no HTML part. */
  html: string;
  /** By lower-case name, the first of each, decoded where mailparser reads it as text. */
  headers: Record<string, string>;
  raw: string;
}

export interface SmtpSink {
  /** smtp://127.0.0.1:<port> */
  url: string;
  /** Accepted mails, in the order they arrived. */
  mails: ReceivedMail[];
  /** Mails answered with a temporary error by failNextDeliveries. */
  readonly rejected: number;
  /** The first mail, received already or yet to come, that `predicate` accepts. */
  waitForMail(predicate?: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** Answers the next `count` mails' DATA with 451 (try again later), for retry paths. */
  failNextDeliveries(count: number): void;
  close(): Promise<void>;
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects.flatMap((object) => object.value.flatMap((entry) => (entry.address ? [entry.address] : [])));
}

export async function startSmtpSink(options: { failNext?: number } = {}): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const waiters = new Set<{ predicate: (mail: ReceivedMail) => boolean; resolve: (mail: ReceivedMail) => void }>();
  let failuresLeft = options.failNext ?? 0;
  let rejected = 0;

  const server = new SMTPServer({
    authOptional: true,
    // Credentials in plain text are fine on loopback; a real URL's user and password reach onAuth.
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    // Connections nodemailer left open do not hold a test's teardown for the default 30 s.
    closeTimeout: 1_000,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", callback);
      // The whole message is read before answering either way: that is when SMTP answers DATA.
      stream.on("end", () => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          rejected += 1;
          callback(Object.assign(new Error("Temporary failure, try again later (smtp sink)"), { responseCode: 451 }));
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            const headers: Record<string, string> = {};
            for (const { key, line } of parsed.headerLines) {
              if (key in headers) continue;
              const value = parsed.headers.get(key);
              headers[key] = typeof value === "string" ? value : line.slice(line.indexOf(":") + 1).trim();
            }
            const mail: ReceivedMail = {
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
                to: session.envelope.rcptTo.map((recipient) => recipient.address),
              },
              user: typeof session.user === "string" ? session.user : undefined,
              from: parsed.from?.text ?? "",
              to: addresses(parsed.to),
              subject: parsed.subject ?? "",
              text: parsed.text ?? "",
              html: parsed.html || "",
              headers,
              raw: raw.toString("utf8"),
            };
            mails.push(mail);
            for (const waiter of waiters) {
              if (waiter.predicate(mail)) {
                waiters.delete(waiter);
                waiter.resolve(mail);
              }
            }
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  // A client hanging up mid-session is reported here; the test that cares sees it in its send.
  server.on("error", () => undefined);
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    get rejected() {
      return rejected;
    },
    waitForMail(predicate = () => true, timeoutMs = 5_000) {
      const already = mails.find(predicate);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (mail: ReceivedMail) => {
            clearTimeout(timer);
            resolve(mail);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`No matching mail within ${timeoutMs} ms (${mails.length} received, ${rejected} rejected)`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    failNextDeliveries(count) {
      failuresLeft = count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
