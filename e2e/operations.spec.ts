import { readFile } from "node:fs/promises";
import { expect, test, type Download } from "@playwright/test";
import { ANA, expectAccessible, fillSignUpForm, SCREENSHOT_DIR, signedInPage, uniqueAccount, newTestContext } from "./fixtures";

// The operations an admin and a member reach from the pages: "Download my data"
// in the account menu, and the operations page (live status, retention, an
// admin's export of someone's data).

test.describe.configure({ timeout: 90_000 });

const ADMIN = { email: "admin@example.com", name: "Ada Admin" };
/** chatline-export-2026-11-22.json; an admin's export of someone names them: chatline-export-ana-example-com-2026-11-22.json. */
const EXPORT_FILE = /^chatline-export-([a-z0-9-]+-)?\d{4}-\d{2}-\d{2}\.json$/;

async function exported(download: Download) {
  expect(download.suggestedFilename()).toMatch(EXPORT_FILE);
  const path = await download.path();
  return JSON.parse(await readFile(path, "utf8")) as {
    format: string;
    user: { email: string; name: string };
    conversations: { type: string; participants: { name: string }[]; messages: { content: string | null; senderName: string | null }[] }[];
  };
}

test("a member downloads their data from the account menu, with what they wrote", async ({ browser }) => {
  // A new account: the export is limited per person and minute, and a retry must not meet the limit.
  const account = uniqueAccount("export");
  const page = await (await newTestContext(browser)).newPage();
  await fillSignUpForm(page, account);
  await expect(page).toHaveURL("/", { timeout: 20_000 });

  await page.goto("/messages");
  await page.getByRole("button", { name: "New conversation" }).click();
  await page.getByLabel("Search people").fill("Ana");
  await page.getByRole("button", { name: new RegExp(ANA.name) }).click();
  const composer = page.getByRole("textbox", { name: "Message", exact: true });
  const text = `Keep this one ${Date.now()}`;
  await composer.fill(text);
  await composer.press("Enter");
  await expect(page.getByRole("list", { name: "Messages" }).getByText(text)).toBeVisible();
  await expect(page.getByRole("list", { name: "Messages" }).getByText(/^(Sent|Delivered|Read)$/)).toBeVisible();

  const accountMenu = page.getByRole("button", { name: /Account menu for/ });
  await accountMenu.click();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("menuitem", { name: "Download my data" }).click(),
  ]);
  // The file keeps the server's name (Content-Disposition), though the page saves it from a blob.
  expect(download.suggestedFilename()).toMatch(/^chatline-export-\d{4}-\d{2}-\d{2}\.json$/);
  // Once more right away: past the limit (one export per EXPORT_INTERVAL_SECONDS, 20 s
  // in the e2e server) the refusal is shown, not saved as a file.
  await expect(page.getByRole("menu")).toBeHidden();
  await accountMenu.click();
  await page.getByRole("menuitem", { name: "Download my data" }).click();
  await expect(page.getByText(/^You can download one export every \d+ s\. Try again in \d+ s\.$/)).toBeVisible();
  const data = await exported(download);
  expect(data.format).toBe("chatline-export/1");
  expect(data.user).toMatchObject({ email: account.email, name: account.name });
  expect(data.conversations).toHaveLength(1);
  expect(data.conversations[0]!.participants.map((p) => p.name).sort()).toEqual([account.name, ANA.name].sort());
  expect(data.conversations[0]!.messages.map((m) => m.content)).toContain(text);
});

test("an admin sees who is connected and what retention would delete, and exports a person's data", async ({ browser }, testInfo) => {
  // The one admin's exports are limited (EXPORT_INTERVAL_SECONDS, 20 s in the e2e
  // server): a retry waits out what its first attempt may have used.
  if (testInfo.retry > 0) await new Promise((resolve) => setTimeout(resolve, 21_000));
  const admin = await signedInPage(browser, ADMIN);
  await admin.goto("/dashboard/settings/messaging");
  await admin.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Operations" }).click();
  await expect(admin).toHaveURL("/dashboard/operations");
  await expect(admin.getByRole("heading", { level: 1, name: "Operations" })).toBeVisible();

  // The admin's own page holds an event stream: at least one socket and one online user.
  await expect(admin.getByRole("heading", { name: "Live status" })).toBeVisible();
  await expect
    .poll(async () => Number(await admin.getByTestId("status-total-onlineUsers").textContent()), { timeout: 15_000 })
    .toBeGreaterThanOrEqual(1);
  expect(Number(await admin.getByTestId("status-total-sockets").textContent())).toBeGreaterThanOrEqual(1);
  await expect(admin.getByRole("table", { name: "Per instance" }).getByRole("row")).not.toHaveCount(1);

  await expect(admin.getByRole("heading", { name: "Message retention" })).toBeVisible();
  await expect(admin.getByTestId("retention-messages")).toHaveText(/^\d[\d,]* messages?$/);

  // Someone's data: search, then the download link.
  await admin.getByLabel("Name or email").fill(ANA.email);
  await admin.getByRole("button", { name: "Search" }).click();
  const match = admin.getByRole("list", { name: "Matching people" }).getByRole("listitem").filter({ hasText: ANA.email });
  await expect(match).toBeVisible();
  await expectAccessible(admin, "the operations page");
  await admin.screenshot({ path: `${SCREENSHOT_DIR}/admin-operations.png`, fullPage: true });
  const [download] = await Promise.all([
    admin.waitForEvent("download"),
    match.getByRole("button", { name: `Download JSON for ${ANA.name}` }).click(),
  ]);
  expect(download.suggestedFilename()).toContain("ana-example-com");
  const data = await exported(download);
  expect(data.user).toMatchObject({ email: ANA.email, name: ANA.name });
  // An admin's export holds the person's own messages only.
  for (const conversation of data.conversations) {
    for (const message of conversation.messages) expect([ANA.name, null]).toContain(message.senderName);
  }
});
