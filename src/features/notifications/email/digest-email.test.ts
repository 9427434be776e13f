import { describe, expect, it } from "vitest";
import { truncate } from "../preview-text";
import { composeDigestEmail, MESSAGE_PREVIEW_LENGTH, type DigestConversation, type DigestEmailInput } from "./digest-email";

const APP_URL = "https://chat.example.com";
const at = (iso: string) => new Date(iso);

function conversation(overrides: Partial<DigestConversation> = {}): DigestConversation {
  return {
    title: "Ann Lee",
    link: `${APP_URL}/c/ann`,
    unreadCount: 1,
    messages: [{ senderName: "Ann Lee", text: "Lunch at noon?", sentAt: at("2026-11-22T11:05:00Z") }],
    ...overrides,
  };
}

function input(conversations: DigestConversation[], overrides: Partial<DigestEmailInput> = {}): DigestEmailInput {
  return { recipientName: "Bo", appName: "Chatline", appUrl: APP_URL, settingsPath: "/settings/notifications", conversations, ...overrides };
}

/** The visible text of an HTML part, entities decoded once, as a mail client shows it. */
function visibleText(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

describe("the digest subject", () => {
  it("counts messages and conversations, singular and plural", () => {
    expect(composeDigestEmail(input([conversation()])).subject).toBe("1 unread message from Ann Lee");
    expect(composeDigestEmail(input([conversation({ unreadCount: 4 })])).subject).toBe("4 unread messages from Ann Lee");
    expect(composeDigestEmail(input([conversation({ unreadCount: 2 }), conversation({ title: "#design" })])).subject).toBe(
      "3 unread messages in 2 conversations",
    );
    expect(composeDigestEmail(input([conversation(), conversation({ title: "#design" })])).subject).toBe(
      "2 unread messages in 2 conversations",
    );
    expect(composeDigestEmail(input([conversation({ unreadCount: 1234 })])).subject).toBe("1,234 unread messages from Ann Lee");
  });

  it("never counts fewer messages than it shows, and keeps a title on one short line", () => {
    const three = [1, 2, 3].map((n) => ({ senderName: "Ann Lee", text: `m${n}`, sentAt: at("2026-11-22T11:05:00Z") }));
    expect(composeDigestEmail(input([conversation({ unreadCount: 0, messages: three })])).subject).toBe("3 unread messages from Ann Lee");
    const subject = composeDigestEmail(input([conversation({ title: `#a\r\nBcc: x@evil.test ${"long ".repeat(30)}` })])).subject;
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject.startsWith("1 unread message from #a Bcc: x@evil.test long")).toBe(true);
    expect(subject.endsWith("…")).toBe(true);
    expect(subject.length).toBeLessThan(100);
  });
});

describe("the digest body", () => {
  const digest = composeDigestEmail(
    input(
      [
        conversation({
          unreadCount: 5,
          messages: [
            { senderName: "Ann Lee", text: "First line\nsecond line", sentAt: at("2026-11-22T11:05:00Z") },
            { senderName: "Ann Lee", text: "See you there", sentAt: at("2026-11-22T11:07:00Z") },
          ],
        }),
        conversation({
          title: "#design",
          link: `${APP_URL}/c/design?x=1&y=2`,
          unreadCount: 1,
          messages: [{ senderName: "Cy Park", text: "New mockups are up", sentAt: at("2026-11-22T12:30:00Z") }],
        }),
      ],
      { timeZone: "America/New_York" },
    ),
  );

  it("has a plain text part with each conversation, its messages, what is left out, and its link", () => {
    const { text } = digest;
    expect(text).toContain("Hi Bo,");
    expect(text).toContain("You have 6 unread messages in 2 conversations on Chatline.");
    expect(text).toContain("Ann Lee (5 unread messages)");
    // 11:05 UTC is 06:05 in New York in November.
    expect(text).toContain("  [Nov 22, 06:05] Ann Lee: First line\n      second line\n");
    expect(text).toContain("Ann Lee: See you there");
    expect(text).toContain("  and 3 more\n");
    expect(text).toContain(`Open: ${APP_URL}/c/ann\n`);
    expect(text).toContain("#design (1 unread message)");
    expect(text).toContain("Cy Park: New mockups are up");
    expect(text).toContain(`Open: ${APP_URL}/c/design?x=1&y=2\n`);
    expect(text).not.toContain("and 0 more");
    expect(text).toContain(`Change your email notifications: ${APP_URL}/settings/notifications`);
    expect(text.indexOf("Ann Lee (5")).toBeLessThan(text.indexOf("#design (1"));
  });

  it("has an HTML part with the same content and links to the conversations, the app and the settings only", () => {
    const { html } = digest;
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain("First line<br>second line");
    expect(html).toContain("and 3 more");
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
    expect(new Set(hrefs)).toEqual(
      new Set([APP_URL, `${APP_URL}/c/ann`, `${APP_URL}/c/design?x=1&amp;y=2`, `${APP_URL}/settings/notifications`]),
    );
    // Nothing is fetched from elsewhere: no images, style sheets or scripts.
    expect(html).not.toMatch(/<(img|link|script)\b|src=/i);
    const visible = visibleText(html);
    expect(visible).toContain("You have 6 unread messages in 2 conversations on Chatline.");
    expect(visible).toContain("Cy Park");
    expect(visible).toContain("New mockups are up");
  });

  it("says when times are in UTC, for a recipient without a known time zone", () => {
    const withoutZone = composeDigestEmail(input([conversation()]));
    expect(withoutZone.text).toContain("[Nov 22, 11:05 UTC] Ann Lee: Lunch at noon?");
    const unknownZone = composeDigestEmail(input([conversation()], { timeZone: "Mars/Olympus" }));
    expect(unknownZone.text).toContain("[Nov 22, 11:05 UTC]");
  });

  it("joins a settings path without a leading slash, and an app URL with a trailing one", () => {
    const { html, text } = composeDigestEmail(input([conversation()], { appUrl: `${APP_URL}/`, settingsPath: "settings/notifications" }));
    expect(text).toContain(`${APP_URL}/settings/notifications`);
    expect(html).toContain(`href="${APP_URL}/settings/notifications"`);
  });
});

describe("hostile text", () => {
  const hostile = '<img src=x onerror=alert(1)>';
  const digest = composeDigestEmail(
    input(
      [
        conversation({
          title: `<b>${hostile}</b>`,
          link: `javascript:alert(1)`,
          messages: [
            { senderName: `"><script>alert(2)</script>`, text: `${hostile} & "quotes" 'too' https://evil.test`, sentAt: at("2026-11-22T11:05:00Z") },
          ],
        }),
      ],
      { recipientName: "<i>Bo</i>", appName: "Chat & <Line>" },
    ),
  );

  it("is escaped everywhere in the HTML part, and shows as the text it is", () => {
    const { html } = digest;
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<b>");
    expect(html).not.toContain("<i>");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;");
    expect(html).toContain("&amp; &quot;quotes&quot; &#39;too&#39;");
    expect(html).toContain("Chat &amp; &lt;Line&gt;");
    const visible = visibleText(html);
    expect(visible).toContain(`${hostile} & "quotes" 'too' https://evil.test`);
    expect(visible).toContain("Hi <i>Bo</i>,");
  });

  it("never becomes a link: a conversation link that is not http(s) is left out", () => {
    const hrefs = [...digest.html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
    expect(hrefs).toEqual([APP_URL, `${APP_URL}/settings/notifications`]);
    expect(digest.text).not.toContain("javascript:");
  });

  it("loses control characters and direction overrides in names, and keeps them out of the subject", () => {
    const { subject, text } = composeDigestEmail(
      input([
        conversation({
          title: "Ann\u202Egnp.exe",
          messages: [{ senderName: "Ann\u0007 Lee", text: "bell\u0007 and\u0000 nul", sentAt: at("2026-11-22T11:05:00Z") }],
        }),
      ]),
    );
    expect(subject).toBe("1 unread message from Ann gnp.exe");
    expect(text).toContain("Ann Lee: bell and nul");
  });
});

describe("long and multi-line messages", () => {
  it("are cut to the preview length with an ellipsis", () => {
    const long = "word ".repeat(100);
    const [shown] = composeDigestEmail(input([conversation({ messages: [{ senderName: "Ann", text: long, sentAt: at("2026-11-22T11:05:00Z") }] })]))
      .text.split("\n")
      .filter((line) => line.includes("Ann: "));
    const body = shown!.slice(shown!.indexOf("Ann: ") + 5);
    expect(body.endsWith("word…")).toBe(true);
    expect(body.length).toBeLessThanOrEqual(MESSAGE_PREVIEW_LENGTH);
    expect(body.length).toBeGreaterThan(MESSAGE_PREVIEW_LENGTH - 10);
  });

  it("are never cut inside a surrogate pair or an emoji sequence", () => {
    for (let offset = 0; offset < 4; offset += 1) {
      const text = "a".repeat(offset) + "😀".repeat(150);
      const cut = truncate(text, MESSAGE_PREVIEW_LENGTH);
      expect(cut.endsWith("…")).toBe(true);
      expect(cut.length).toBeLessThanOrEqual(MESSAGE_PREVIEW_LENGTH);
      // A lone surrogate would not survive a round trip through UTF-8.
      expect(Buffer.from(cut, "utf8").toString("utf8")).toBe(cut);
    }
    const family = "👨‍👩‍👧"; // Three emoji joined into one character.
    const cut = truncate(family.repeat(40), 50);
    expect(cut.slice(0, -1).length % family.length).toBe(0);
    expect(cut.slice(0, -1)).toBe(family.repeat(cut.slice(0, -1).length / family.length));
  });

  it("leaves short text alone and cuts even one giant accented letter", () => {
    expect(truncate("short", 200)).toBe("short");
    expect(truncate("x".repeat(200), 200)).toBe("x".repeat(200));
    const zalgo = "e" + "\u0301".repeat(500);
    expect(truncate(zalgo, 200).length).toBe(200);
  });

  it("keep their lines, without blank ones or carriage returns", () => {
    const { text, html } = composeDigestEmail(
      input([
        conversation({ messages: [{ senderName: "Ann", text: "one\r\n\r\n\n  two\tthree  \nfour", sentAt: at("2026-11-22T11:05:00Z") }] }),
      ]),
    );
    expect(text).toContain("Ann: one\n        two three\n      four\n");
    expect(text).not.toContain("\r");
    expect(html).toContain("one<br>  two three<br>four");
    const empty = composeDigestEmail(input([conversation({ messages: [{ senderName: "Ann", text: " \n ", sentAt: at("2026-11-22T11:05:00Z") }] })]));
    expect(empty.text).toContain("Ann: (no text)");
  });
});
