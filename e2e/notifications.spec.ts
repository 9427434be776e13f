import { expect, test, type Browser, type BrowserContextOptions, type Page } from "@playwright/test";
import { expectAccessible, fillSignUpForm, SCREENSHOT_DIR, signedInPage, uniqueAccount, type NewAccount, newTestContext } from "./fixtures";

// The notification bell: a message to someone who is not looking at its
// conversation rings it live; one they are looking at does not; the
// notification settings keep what is chosen; an admin's announcement arrives.

// Two or three browsers, each signing up first, take longer than the default 30 s.
test.describe.configure({ timeout: 90_000 });

type Member = { page: Page; account: NewAccount };

/** A new account of its own in a browser of its own: no earlier test's notifications in its bell. */
async function newMember(browser: Browser, label: string, options: BrowserContextOptions = {}): Promise<Member> {
  const page = await (await newTestContext(browser, options)).newPage();
  const account = uniqueAccount(label);
  await fillSignUpForm(page, account);
  // Each sign-up hashes a password with a deliberately slow scrypt.
  await expect(page).toHaveURL("/", { timeout: 20_000 });
  return { page, account };
}

const bell = (page: Page) => page.getByRole("button", { name: /^Notifications/ });
const notificationList = (page: Page) => page.getByRole("list", { name: "Notifications" });
const messageList = (page: Page) => page.getByRole("list", { name: "Messages" });
const composer = (page: Page) => page.getByRole("textbox", { name: "Message", exact: true });

async function send(page: Page, text: string) {
  await composer(page).fill(text);
  await composer(page).press("Enter");
  await expect(messageList(page).getByText(text)).toBeVisible();
}

/** `from` opens (or starts) the direct conversation with `to` and sends `text`. */
async function messageDirectly(from: Member, to: Member, text: string) {
  await from.page.goto("/messages");
  await from.page.getByRole("button", { name: "New conversation" }).click();
  await from.page.getByLabel("Search people").fill(to.account.email);
  await from.page.getByRole("button", { name: new RegExp(to.account.name) }).click();
  await expect(from.page.getByRole("heading", { level: 1, name: to.account.name })).toBeVisible();
  await send(from.page, text);
}

async function openMessages(member: Member) {
  await member.page.goto("/messages");
  await expect(member.page.getByRole("heading", { name: "Your messages" })).toBeVisible();
}

test("a message to someone with no conversation open rings their bell live, and the notification opens it", async ({ browser }) => {
  const sender = await newMember(browser, "bell-sender");
  const recipient = await newMember(browser, "bell-recipient");
  await openMessages(recipient);
  await expect(bell(recipient.page)).toHaveAccessibleName("Notifications");

  const text = `Are you free at ${Date.now()}?`;
  await messageDirectly(sender, recipient, text);

  // No reload: the badge comes over the event stream.
  await expect(bell(recipient.page)).toHaveAccessibleName("Notifications, 1 unread");
  await expect(bell(recipient.page)).toContainText("1");
  await bell(recipient.page).click();
  const item = notificationList(recipient.page).getByRole("listitem");
  await expect(item).toHaveCount(1);
  await expect(item).toContainText(sender.account.name);
  await expect(item).toContainText(text);
  await expect(recipient.page.getByRole("link", { name: "Notification settings" })).toBeVisible();
  await expectAccessible(recipient.page, "the open notification bell");
  await recipient.page.screenshot({ path: `${SCREENSHOT_DIR}/notification-bell.png` });

  await item.getByRole("button", { name: /^Unread:/ }).click();
  await expect(recipient.page).toHaveURL(/\/messages\/[0-9a-f-]{36}$/);
  await expect(messageList(recipient.page).getByText(text)).toBeVisible();
  await expect(bell(recipient.page)).toHaveAccessibleName("Notifications");
  await expect(notificationList(recipient.page)).toHaveCount(0);
});

test("a message in the conversation someone has open and focused does not notify them", async ({ browser }) => {
  const sender = await newMember(browser, "view-sender");
  const recipient = await newMember(browser, "view-recipient");
  const other = await newMember(browser, "view-other");

  // What the recipient's page tells the server over its socket.
  const presenceReports: string[] = [];
  recipient.page.on("websocket", (socket) => {
    socket.on("framesent", ({ payload }) => {
      if (typeof payload === "string" && payload.includes("presence.set")) presenceReports.push(payload);
    });
  });
  await openMessages(recipient);
  await messageDirectly(sender, recipient, `Hello ${Date.now()}`);
  await expect(bell(recipient.page)).toHaveAccessibleName("Notifications, 1 unread");

  // Opening the conversation reads it, and its notification with it.
  await recipient.page
    .getByRole("navigation", { name: "Conversations" })
    .getByRole("link", { name: new RegExp(sender.account.name) })
    .click();
  await expect(recipient.page).toHaveURL(/\/messages\/[0-9a-f-]{36}$/);
  const conversationId = new URL(recipient.page.url()).pathname.split("/").pop()!;
  await expect(bell(recipient.page)).toHaveAccessibleName("Notifications");
  await expect.poll(() => presenceReports.some((report) => report.includes(conversationId))).toBe(true);

  const whileViewing = `Seen as it arrives ${Date.now()}`;
  await send(sender.page, whileViewing);
  await expect(messageList(recipient.page).getByText(whileViewing)).toBeVisible();

  // Notifications are made in the order messages were sent: once the other
  // person's later message rings the bell, the one above was decided on too.
  const later = `Meanwhile, elsewhere ${Date.now()}`;
  await messageDirectly(other, recipient, later);
  await expect(bell(recipient.page)).toHaveAccessibleName("Notifications, 1 unread");
  await bell(recipient.page).click();
  await expect(notificationList(recipient.page).getByRole("button", { name: /^Unread:/ })).toHaveCount(1);
  await expect(notificationList(recipient.page).getByRole("listitem").filter({ hasText: later })).toHaveCount(1);
  await expect(notificationList(recipient.page).getByText(whileViewing)).toHaveCount(0);
});

test("turning in-app notifications for messages off is kept across a reload", async ({ browser }) => {
  const member = await newMember(browser, "prefs", { timezoneId: "Europe/Berlin" });
  await openMessages(member);
  await member.page.getByRole("button", { name: /Account menu for/ }).click();
  await member.page.getByRole("menuitem", { name: "Notification settings" }).click();
  await expect(member.page).toHaveURL("/messages/settings");
  await expect(member.page.getByRole("heading", { level: 1, name: "Notification settings" })).toBeVisible();

  const inApp = member.page.getByRole("group", { name: "Messages" }).getByRole("switch", { name: "In-app" });
  await expect(inApp).toBeChecked();
  await expectAccessible(member.page, "the notification settings page");
  await inApp.click();
  await expect(member.page.getByText("Messages: in-app notifications off")).toBeVisible();
  await expect(inApp).not.toBeChecked();

  await member.page.reload();
  await expect(inApp).not.toBeChecked();
  await expect(member.page.getByRole("group", { name: "Announcements" }).getByRole("switch", { name: "In-app" })).toBeChecked();

  // Do not disturb, switched on the first time, takes the browser's time zone.
  await member.page.getByRole("switch", { name: "Do not disturb" }).click();
  await expect(member.page.getByText("Do not disturb is on, 22:00–07:00 (Europe/Berlin)")).toBeVisible();
  await expect(member.page.getByLabel("Time zone")).toHaveValue("Europe/Berlin");
  await member.page.getByLabel("Time zone").scrollIntoViewIfNeeded();
  await member.page.screenshot({ path: `${SCREENSHOT_DIR}/notification-settings.png` });

  // On a phone the page takes the screen, with the way back to the list.
  await member.page.setViewportSize({ width: 390, height: 844 });
  await expect(member.page.getByRole("navigation", { name: "Conversations" })).toBeHidden();
  await member.page.getByRole("link", { name: "Back to conversations" }).click();
  await expect(member.page).toHaveURL("/messages");
  await expect(member.page.getByRole("navigation", { name: "Conversations" })).toBeVisible();
});

test("an admin's announcement reaches a member's bell live, as plain text", async ({ browser }) => {
  const member = await newMember(browser, "announced");
  // The home page's bell follows the message icon's event stream.
  await expect(bell(member.page)).toHaveAccessibleName("Notifications");

  const admin = await signedInPage(browser, { email: "admin@example.com" });
  await admin.goto("/dashboard/announcements");
  await expect(admin.getByRole("heading", { level: 1, name: "Announcements" })).toBeVisible();
  const title = `Maintenance ${Date.now()}`;
  const body = "Back at <b>noon</b>";
  const form = admin.getByRole("form", { name: "New announcement" });
  await form.getByLabel("Title").fill(title);
  await form.getByLabel("Message").fill(body);
  await form.getByLabel("Link").fill("not a path");
  await form.getByRole("button", { name: "Send announcement" }).click();
  await expect(form.getByText("A link is a path inside the app, such as /messages.")).toBeVisible();
  await form.getByLabel("Link").fill("/messages/settings");
  await form.getByRole("button", { name: "Send announcement" }).click();
  await expect(form.getByRole("status")).toContainText(/Sent to \d+ people/);
  await expectAccessible(admin, "the announcements page");

  await expect(bell(member.page)).toHaveAccessibleName("Notifications, 1 unread");
  await bell(member.page).click();
  const item = notificationList(member.page).getByRole("listitem").filter({ hasText: title });
  await expect(item.getByText(body, { exact: true })).toBeVisible();
  await item.getByRole("button", { name: /^Unread:/ }).click();
  await expect(member.page).toHaveURL("/messages/settings");
  await expect(bell(member.page)).toHaveAccessibleName("Notifications");
});
