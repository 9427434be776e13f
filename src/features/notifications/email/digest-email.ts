import { truncate } from "../preview-text";
// The digest email a member gets when they have been away with unread messages:
// one section per conversation with its newest messages and a link to it. A pure
// function of what the job gathered, so its tests need no mail server.
// Everything a member wrote (names, titles, messages) is someone else's text in
// this person's mail client: it is escaped in the HTML part and never becomes a link.

export interface DigestMessage {
  senderName: string;
  text: string;
  sentAt: Date;
}

export interface DigestConversation {
  /** As the app shows it: "Ann Lee" for a direct conversation, "#design" for a group. */
  title: string;
  /** Absolute URL of the conversation in the app. */
  link: string;
  /** Unread messages since the last digest; may be more than `messages`. */
  unreadCount: number;
  /** The newest few (three at most), oldest first. */
  messages: DigestMessage[];
}

export interface DigestEmailInput {
  recipientName: string;
  appName: string;
  /** "https://chat.example.com", no trailing slash. */
  appUrl: string;
  /** Where the recipient changes their email preferences: "/settings/notifications". */
  settingsPath: string;
  conversations: DigestConversation[];
  /** The recipient's IANA time zone for message times; UTC (and said so) when unset or unknown. */
  timeZone?: string;
}

export interface DigestEmail {
  subject: string;
  text: string;
  html: string;
}

/** Longest message text shown, in UTF-16 code units, the ellipsis included. */
export const MESSAGE_PREVIEW_LENGTH = 200;
/** Longest conversation title in the subject, where a long one would push the count out of sight. */
const SUBJECT_TITLE_LENGTH = 60;

const numbers = new Intl.NumberFormat("en-US");

// Control characters, and the bidirectional overrides and isolates that could make
// a name read as something else ("Ann\u202Egnp.exe"); the plain marks (U+200E/F) stay.
const CONTROLS_BUT_NEWLINE = /(?!\n)[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

function count(value: number, noun: string): string {
  return `${numbers.format(value)} ${noun}${value === 1 ? "" : "s"}`;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A name or title on one line. */
function singleLine(text: string): string {
  return text.replace(CONTROLS_BUT_NEWLINE, " ").replace(/\s+/g, " ").trim();
}

/** A message as lines without blank ones between (a digest is a summary), cut to the preview length. */
function messageLines(text: string): string[] {
  const cleaned = text
    .replace(/\r\n?|[\u2028\u2029]/g, "\n")
    .replace(/\t/g, " ")
    .replace(CONTROLS_BUT_NEWLINE, "")
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "")
    .join("\n");
  return cleaned === "" ? ["(no text)"] : truncate(cleaned, MESSAGE_PREVIEW_LENGTH).split("\n");
}

/** `url` when it is an http(s) URL, the only kind the email links to. */
function webUrl(url: string): string | null {
  try {
    const { protocol } = new URL(url);
    return protocol === "https:" || protocol === "http:" ? url : null;
  } catch {
    return null;
  }
}

function timeFormat(timeZone: string | undefined): (date: Date) => string {
  const options: Intl.DateTimeFormatOptions = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (timeZone) {
    try {
      const format = new Intl.DateTimeFormat("en-US", { ...options, timeZone });
      return (date) => format.format(date);
    } catch {
      // An unknown zone is shown in UTC, as the do-not-disturb rules read it, rather than failing a digest.
    }
  }
  const utc = new Intl.DateTimeFormat("en-US", { ...options, timeZone: "UTC" });
  return (date) => `${utc.format(date)} UTC`;
}

interface Section {
  title: string;
  url: string | null;
  unread: number;
  messages: { sender: string; time: string; lines: string[] }[];
  more: number;
}

export function composeDigestEmail(input: DigestEmailInput): DigestEmail {
  const appUrl = input.appUrl.replace(/\/+$/, "");
  const appLink = webUrl(appUrl);
  const settingsLink = webUrl(`${appUrl}${input.settingsPath.startsWith("/") ? "" : "/"}${input.settingsPath}`);
  const appName = singleLine(input.appName);
  const formatTime = timeFormat(input.timeZone);

  const sections: Section[] = input.conversations.map((conversation) => {
    // Never fewer than the messages shown, whatever the count the caller had.
    const unread = Math.max(conversation.unreadCount, conversation.messages.length);
    return {
      title: singleLine(conversation.title) || "Conversation",
      url: webUrl(conversation.link),
      unread,
      messages: conversation.messages.map((message) => ({
        sender: singleLine(message.senderName) || "Someone",
        time: formatTime(message.sentAt),
        lines: messageLines(message.text),
      })),
      more: unread - conversation.messages.length,
    };
  });

  const total = sections.reduce((sum, section) => sum + section.unread, 0);
  const [only] = sections;
  const summary =
    sections.length === 1 && only
      ? `${count(total, "unread message")} from ${truncate(only.title, SUBJECT_TITLE_LENGTH)}`
      : `${count(total, "unread message")} in ${count(sections.length, "conversation")}`;
  const recipient = singleLine(input.recipientName);
  const greeting = recipient ? `Hi ${recipient},` : "Hi,";
  const intro = `You have ${summary} on ${appName}.`;
  const why = `You get this email because you were away from ${appName} with unread messages.`;

  return {
    subject: summary,
    text: composeText({ greeting, intro, why, sections, settingsLink }),
    html: composeHtml({ subject: summary, greeting, intro, why, sections, appName, appLink, settingsLink }),
  };
}

function composeText(parts: { greeting: string; intro: string; why: string; sections: Section[]; settingsLink: string | null }): string {
  const lines = [parts.greeting, "", parts.intro];
  for (const section of parts.sections) {
    lines.push("", `${section.title} (${count(section.unread, "unread message")})`);
    for (const message of section.messages) {
      const [first, ...rest] = message.lines;
      lines.push(`  [${message.time}] ${message.sender}: ${first}`, ...rest.map((line) => `      ${line}`));
    }
    if (section.more > 0) lines.push(`  and ${numbers.format(section.more)} more`);
    if (section.url) lines.push(`  Open: ${section.url}`);
  }
  lines.push("", "-- ", parts.why);
  if (parts.settingsLink) lines.push(`Change your email notifications: ${parts.settingsLink}`);
  return `${lines.join("\n")}\n`;
}

const FONT = "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;";
const MUTED = "color:#71717a;";

function anchor(url: string | null, label: string, style: string): string {
  return url ? `<a href="${escapeHtml(url)}" style="${style}">${label}</a>` : label;
}

function composeHtml(parts: {
  subject: string;
  greeting: string;
  intro: string;
  why: string;
  sections: Section[];
  appName: string;
  appLink: string | null;
  settingsLink: string | null;
}): string {
  const sectionHtml = parts.sections.map((section) => {
    const messages = section.messages.map(
      (message) =>
        `<p style="margin:10px 0 0;font-size:14px;line-height:1.45;">` +
        `<strong>${escapeHtml(message.sender)}</strong> <span style="${MUTED}font-size:12px;">${escapeHtml(message.time)}</span><br>` +
        `${message.lines.map(escapeHtml).join("<br>")}</p>`,
    );
    const more = section.more > 0 ? [`<p style="margin:10px 0 0;font-size:13px;${MUTED}">and ${numbers.format(section.more)} more</p>`] : [];
    const open = section.url
      ? [
          `<p style="margin:14px 0 0;">${anchor(
            section.url,
            "Open conversation",
            "display:inline-block;padding:8px 14px;border-radius:6px;background:#18181b;color:#ffffff;text-decoration:none;font-size:14px;",
          )}</p>`,
        ]
      : [];
    return [
      `<div style="margin:16px 0;padding:16px;border:1px solid #e4e4e7;border-radius:8px;background:#ffffff;">`,
      `<h2 style="margin:0;font-size:16px;">${anchor(section.url, escapeHtml(section.title), "color:#18181b;text-decoration:none;")} ` +
        `<span style="${MUTED}font-weight:normal;font-size:14px;">· ${count(section.unread, "unread message")}</span></h2>`,
      ...messages,
      ...more,
      ...open,
      `</div>`,
    ].join("\n");
  });
  const settings = parts.settingsLink ? ` ${anchor(parts.settingsLink, "Change your email notifications", `${MUTED}`)}.` : "";
  return [
    `<!doctype html>`,
    `<html lang="en">`,
    `<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(parts.subject)}</title></head>`,
    `<body style="margin:0;padding:0;background:#f4f4f5;">`,
    `<div style="max-width:560px;margin:0 auto;padding:24px 16px;${FONT}color:#18181b;">`,
    `<p style="margin:0 0 16px;font-size:18px;font-weight:bold;">${anchor(parts.appLink, escapeHtml(parts.appName), "color:#18181b;text-decoration:none;")}</p>`,
    `<p style="margin:0 0 8px;font-size:15px;">${escapeHtml(parts.greeting)}</p>`,
    `<p style="margin:0;font-size:15px;">${escapeHtml(parts.intro)}</p>`,
    ...sectionHtml,
    `<p style="margin:24px 0 0;font-size:12px;${MUTED}">${escapeHtml(parts.why)}${settings}</p>`,
    `</div>`,
    `</body>`,
    `</html>`,
    ``,
  ].join("\n");
}
