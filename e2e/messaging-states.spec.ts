import { expect, test, type Page } from "@playwright/test";
import { ANA, BEN, DEMO_PASSWORD, expectAccessible, fillSignUpForm, SCREENSHOT_DIR, signedInPage, signIn, uniqueAccount } from "./fixtures";

// What a person meets around sending: read status, groups of three, sending while
// offline, drafts, accessibility, and the main screens in light, dark and on a phone.

// Several browsers and a round trip offline take longer than the default 30 s.
test.describe.configure({ timeout: 90_000 });

const CLEO = { email: "cleo@example.com", name: "Cleo Park" };
const DEV = { email: "dev@example.com", name: "Dev Patel" };

const composer = (page: Page) => page.getByRole("textbox", { name: "Message", exact: true });
const messageList = (page: Page) => page.getByRole("list", { name: "Messages" });

async function openDirect(page: Page, name: string, search = name.split(" ")[0]!) {
  await page.goto("/messages");
  await page.getByRole("button", { name: "New conversation" }).click();
  await page.getByLabel("Search people").fill(search);
  await page.getByRole("button", { name: new RegExp(name) }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
}

async function send(page: Page, text: string) {
  await composer(page).fill(text);
  await composer(page).press("Enter");
}

test("the sender sees their message read, and a group of three talks live", async ({ browser }) => {
  const ana = await signedInPage(browser, ANA);
  const ben = await signedInPage(browser, BEN);
  const cleo = await signedInPage(browser, CLEO);

  // Direct: Ben opens what Ana sent, and Ana's status line turns to "Read".
  await openDirect(ana, BEN.name);
  const text = `Are you there? ${Date.now()}`;
  await send(ana, text);
  await expect(messageList(ana).getByText(text)).toBeVisible();
  await expect(messageList(ana).getByText(/^(Sent|Delivered)$/)).toBeVisible();
  await ben.goto("/messages");
  await ben.getByRole("navigation", { name: "Conversations" }).getByRole("link", { name: new RegExp(ANA.name) }).click();
  await expect(messageList(ben).getByText(text)).toBeVisible();
  await expect(messageList(ana).getByText("Read", { exact: true })).toBeVisible();

  // Group: Ana creates it with Ben and Cleo; everyone sees the others' messages.
  const groupName = `Trip ${Date.now().toString(36)}`;
  await ana.goto("/messages");
  await ana.getByRole("button", { name: "New conversation" }).click();
  const dialog = ana.getByRole("dialog", { name: "New conversation" });
  await dialog.getByLabel("Group conversation").click();
  await dialog.getByLabel("Search people").fill("Ben");
  await dialog.getByRole("checkbox", { name: `Add ${BEN.name} to the group` }).click();
  await dialog.getByLabel("Search people").fill("Cleo");
  await dialog.getByRole("checkbox", { name: `Add ${CLEO.name} to the group` }).click();
  await dialog.getByRole("button", { name: "Create group" }).click();
  // The contract's rule shows before anything is sent.
  await expect(dialog.getByText("Use at least 3 characters for the group name.")).toBeVisible();
  await dialog.getByLabel("Group name").fill(groupName);
  await expectAccessible(ana, "the new conversation dialog");
  await dialog.getByRole("button", { name: "Create group" }).click();
  await expect(ana.getByRole("heading", { level: 1, name: groupName })).toBeVisible();
  await expect(ana.getByText("3 members")).toBeVisible();
  await send(ana, "Who is in for Saturday?");

  for (const member of [ben, cleo]) {
    await member.goto("/messages");
    await member.getByRole("navigation", { name: "Conversations" }).getByRole("link", { name: new RegExp(groupName) }).click();
    await expect(messageList(member).getByText("Who is in for Saturday?")).toBeVisible();
  }
  await send(ben, "Me!");
  await send(cleo, "Count me in");
  for (const member of [ana, ben, cleo]) {
    await expect(messageList(member).getByText("Me!")).toBeVisible();
    await expect(messageList(member).getByText("Count me in")).toBeVisible();
  }
  // Replies that came in while Ana was looking are not marked as new.
  await expect(messageList(ana).getByText("New messages")).toHaveCount(0);
  // In a group, the sender's message names its readers.
  await expect(messageList(cleo).getByText(/^Seen by /)).toBeVisible();
  await expectAccessible(ana, "the messages page");
  await ana.screenshot({ path: `${SCREENSHOT_DIR}/group-light.png` });
  await ana.emulateMedia({ colorScheme: "dark" });
  await expect(ana.locator("html")).toHaveClass(/dark/);
  await expectAccessible(ana, "the messages page in dark mode");
  await ana.screenshot({ path: `${SCREENSHOT_DIR}/group-dark.png` });
  await ana.context().close();
  await ben.context().close();
  await cleo.context().close();
});

test("messages written offline are shown as sending and arrive in order once back online", async ({ browser }) => {
  const dev = await signedInPage(browser, DEV);
  const ben = await signedInPage(browser, BEN);
  await openDirect(ben, DEV.name);
  await openDirect(dev, BEN.name);

  await ben.context().setOffline(true);
  await expect(ben.getByRole("status").getByText("Reconnecting…")).toBeVisible();
  await send(ben, "first while offline");
  await send(ben, "second while offline");
  await expect(messageList(ben).getByText("Sending…")).toHaveCount(2);

  // A draft survives a reload on the other side.
  await composer(dev).fill("half a thought");
  await dev.waitForTimeout(500);
  await dev.reload();
  await expect(composer(dev)).toHaveValue("half a thought");

  await ben.context().setOffline(false);
  const devMessages = messageList(dev);
  await expect(devMessages.getByText(/while offline$/)).toHaveText(["first while offline", "second while offline"]);
  await expect(messageList(ben).getByText("Sending…")).toHaveCount(0);
  await expect(ben.getByText("Reconnecting…")).toHaveCount(0);
});

test("the panel and a phone-sized screen", async ({ browser }) => {
  const dev = await signedInPage(browser, DEV);
  await openDirect(dev, CLEO.name);
  await send(dev, "See you at the station");
  const cleo = await signedInPage(browser, CLEO);
  await cleo.getByRole("button", { name: /^Messages/ }).click();
  const panel = cleo.getByRole("dialog", { name: "Messages" });
  await expect(panel.getByRole("link", { name: new RegExp(DEV.name) })).toBeVisible();
  await expectAccessible(cleo, "the message panel");
  await cleo.screenshot({ path: `${SCREENSHOT_DIR}/panel-light.png` });
  // Reading it in the panel clears the badge; Esc closes the panel.
  await panel.getByRole("link", { name: new RegExp(DEV.name) }).click();
  await expect(panel.getByRole("list", { name: "Messages" }).getByText("See you at the station").first()).toBeVisible();
  await expectAccessible(cleo, "a conversation in the panel");
  // Back in the list, focus is on the conversation just left; Esc closes the panel.
  await panel.getByRole("button", { name: "Back to conversations" }).click();
  await expect(panel.getByRole("link", { name: new RegExp(DEV.name) })).toBeFocused();
  await cleo.keyboard.press("Escape");
  await expect(cleo.getByRole("button", { name: "Messages", exact: true })).toBeVisible();

  // At 375 px the list and the conversation are separate screens.
  const phone = await signedInPage(browser, DEV, { viewport: { width: 375, height: 740 }, hasTouch: true, isMobile: true });
  await phone.goto("/messages");
  const list = phone.getByRole("navigation", { name: "Conversations" });
  await expect(list.getByRole("link", { name: new RegExp(CLEO.name) })).toBeVisible();
  await phone.screenshot({ path: `${SCREENSHOT_DIR}/phone-list.png` });
  await list.getByRole("link", { name: new RegExp(CLEO.name) }).click();
  await expect(phone.getByRole("heading", { level: 1, name: CLEO.name })).toBeVisible();
  await expect(list).toBeHidden();
  await expectAccessible(phone, "the conversation on a phone");
  await phone.emulateMedia({ colorScheme: "dark" });
  await phone.screenshot({ path: `${SCREENSHOT_DIR}/phone-conversation-dark.png` });
});

test("a long conversation loads older pages while scrolling up, and the jump button counts what came in", async ({ browser }) => {
  // Two new people, so a retry starts from an empty conversation too.
  const [writer, reader] = await Promise.all(
    ["writer", "reader"].map(async (label) => {
      const account = uniqueAccount(label);
      const page = await (await browser.newContext()).newPage();
      await fillSignUpForm(page, account);
      // Password hashing is deliberately slow (scrypt), and two run at once.
      await expect(page).toHaveURL("/", { timeout: 20_000 });
      return { page, account };
    }),
  );
  const ana = writer!.page;
  const dev = reader!.page;
  await openDirect(ana, reader!.account.name, reader!.account.email);
  const conversationId = ana.url().split("/").pop()!;

  // 120 messages through the API (the same procedure the composer uses), three pages' worth.
  for (let index = 1; index <= 120; index += 1) {
    const response = await ana.request.post("/api/trpc/messages.send", {
      headers: { origin: new URL(ana.url()).origin },
      data: { json: { conversationId, content: `Line ${index}`, clientMessageId: `line-${index}` } },
    });
    expect(response.ok()).toBe(true);
  }

  await dev.goto(`/messages/${conversationId}`);
  const list = messageList(dev);
  // Opened at the first unread the page holds, not at the bottom.
  await expect(list.getByText("Line 71", { exact: true })).toBeVisible();
  await expect(list.getByText("Line 120", { exact: true })).toBeHidden();

  // Scrolling up fetches the older pages until the very first line, where the
  // "New messages" divider has moved as the older unread pages came in.
  const scroller = list.locator("xpath=..");
  // The divider is the row above Line 1: it is checked at the top of the list, where
  // the virtualizer renders it, not wherever the scroll happens to stop.
  await expect(async () => {
    await scroller.evaluate((element) => element.scrollBy(0, -4000));
    await expect(list.getByText("Line 1", { exact: true })).toBeVisible({ timeout: 1_000 });
    await expect(list.getByText("New messages")).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  // Only what is near the screen is in the page, not 120 rows.
  expect(await list.getByRole("listitem").count()).toBeLessThan(60);

  // Scrolled up, a new message does not pull the reader down: a button counts it.
  await send(ana, "And one more");
  const jump = dev.getByRole("button", { name: "Jump to newest, 1 new" });
  await expect(jump).toBeVisible();
  await jump.click();
  await expect(list.getByText("And one more")).toBeVisible();
  await expect(dev.getByRole("button", { name: /Jump to newest/ })).toHaveCount(0);
});

test("when an admin turns messaging off, the message icon disappears without a reload, and comes back", async ({ browser }) => {
  const admin = await signedInPage(browser, { email: "admin@example.com" });
  const cleo = await signedInPage(browser, CLEO);
  const icon = cleo.getByRole("button", { name: /^Messages/ });
  await expect(icon).toBeVisible();
  // The change is pushed to live streams; a page whose stream is not up yet reads it on
  // connecting instead, which under a loaded run took longer than the wait below.
  await expect(icon).toHaveAttribute("data-stream", "live", { timeout: 15_000 });

  const setEnabled = async (enabled: boolean) => {
    const response = await admin.request.post("/api/trpc/settings.update", {
      headers: { origin: new URL(admin.url()).origin },
      data: { json: { enabled } },
    });
    expect(response.ok(), await response.text()).toBe(true);
  };
  try {
    await setEnabled(false);
    await expect(icon).toHaveCount(0);
    await cleo.goto("/messages");
    await expect(cleo).toHaveURL("/");
  } finally {
    await setEnabled(true);
  }
  await expect(cleo.getByRole("button", { name: /^Messages/ })).toBeVisible();
});

test("pages run under a strict Content-Security-Policy and still hydrate and connect", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|violates/i.test(message.text())) violations.push(message.text());
  });
  const response = await page.goto("/sign-in");
  const policy = response?.headers()["content-security-policy"] ?? "";
  const scriptSrc = policy.split(";").find((directive) => directive.trim().startsWith("script-src")) ?? "";
  expect(scriptSrc).toMatch(/'nonce-[^']+'/);
  expect(scriptSrc).not.toContain("unsafe-inline");
  expect(scriptSrc).not.toContain("unsafe-eval");

  await signIn(page, ANA.email, DEMO_PASSWORD);
  await expect(page).toHaveURL("/");
  await page.goto("/messages");
  await expect(page.getByRole("heading", { name: "Your messages" })).toBeVisible();
  // Connected: the socket got through connect-src and the stream is live.
  await expect(page.getByText(/Connecting…|Reconnecting…/)).toHaveCount(0);
  await page.getByRole("button", { name: "New conversation" }).click();
  await expect(page.getByRole("dialog", { name: "New conversation" })).toBeVisible();
  expect(violations).toEqual([]);
});
