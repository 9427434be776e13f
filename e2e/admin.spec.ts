import { expect, test, type Page } from "@playwright/test";
import { ANA, BEN, expectAccessible, SCREENSHOT_DIR, signedInPage, signIn } from "./fixtures";

// The admin pages: an admin changes the maximum message length on the settings
// page, and a user's open composer follows it without a reload.

test.describe.configure({ timeout: 90_000 });

const ADMIN = { email: "admin@example.com", name: "Ada Admin" };
const SETTINGS_PATH = "/dashboard/settings/messaging";
const LENGTH_ERROR = "The maximum message length must be between 100 and 5,000 characters.";

/** settings.update through the same HTTP API the page uses (for putting things back). */
async function updateSettings(page: Page, input: Record<string, unknown>): Promise<void> {
  const status = await page.evaluate(async (json) => {
    const response = await fetch("/api/trpc/settings.update", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ json }),
    });
    return response.status;
  }, input);
  expect(status).toBe(200);
}

test("an admin changes the maximum message length and a user's open composer follows it live", async ({ browser }) => {
  const admin = await signedInPage(browser, ADMIN);
  const ana = await signedInPage(browser, ANA);

  // The account menu leads admins to the settings page.
  await admin.getByRole("button", { name: /Account menu for/ }).click();
  await admin.getByRole("menuitem", { name: "Messaging settings" }).click();
  await expect(admin).toHaveURL(SETTINGS_PATH);
  await expect(admin.getByRole("heading", { level: 1, name: "Messaging settings" })).toBeVisible();
  const lengthField = admin.getByLabel("Maximum message length");
  const original = Number(await lengthField.inputValue());
  expect(original).toBeGreaterThanOrEqual(100);
  const limit = original === 120 ? 130 : 120;
  await expect(admin.getByRole("heading", { name: "History of changes" })).toBeVisible();
  // The email digest timing has its own group, in minutes.
  await expect(admin.getByRole("heading", { level: 2, name: "Email digests" })).toBeVisible();
  await expect(admin.getByLabel("Offline before a digest")).toHaveAttribute("type", "number");
  await expect(admin.getByLabel("Time between digests")).toHaveAttribute("type", "number");
  await expectAccessible(admin, "the messaging settings page");

  // Ana has a conversation open, with a message longer than the new limit typed but not sent.
  await ana.goto("/messages");
  await ana.getByRole("button", { name: "New conversation" }).click();
  await ana.getByLabel("Search people").fill("Ben");
  await ana.getByRole("button", { name: new RegExp(BEN.name) }).click();
  await expect(ana.getByRole("heading", { level: 1, name: BEN.name })).toBeVisible();
  const composer = ana.getByRole("textbox", { name: "Message", exact: true });
  const draft = "x".repeat(limit + 10);
  await composer.fill(draft);
  const send = ana.getByRole("button", { name: "Send" });
  await expect(send).toBeEnabled();
  await expect(ana.getByText(`${draft.length} / ${original}`)).toHaveCount(0);

  try {
    // Out of range: the contract's message shows at the field, and nothing is saved.
    await lengthField.fill("99");
    await lengthField.blur();
    await expect(admin.getByText(LENGTH_ERROR)).toBeVisible();
    await expect(lengthField).toHaveAttribute("aria-invalid", "true");
    await admin.getByRole("button", { name: "Save settings" }).click();
    await expect(admin.getByText(LENGTH_ERROR)).toBeVisible();
    await expect(admin.getByText("Settings saved")).toHaveCount(0);
    await expectAccessible(admin, "the settings page with a field error");

    await lengthField.fill(String(limit));
    await expect(admin.getByText(LENGTH_ERROR)).toHaveCount(0);
    await admin.getByRole("button", { name: "Save settings" }).click();
    await expect(admin.getByText("Settings saved")).toBeVisible();

    // The history names who changed what, before and after.
    const history = admin.getByRole("list", { name: "History of changes" });
    const newest = history.getByRole("listitem").first();
    await expect(newest).toContainText(ADMIN.name);
    await expect(newest).toContainText(
      `Maximum message length:${original.toLocaleString("en")} characters${limit.toLocaleString("en")} characters`,
    );

    // Ana's composer follows at once: the counter shows how far over she is, and Send is off.
    await expect(ana.getByText(`${draft.length} / ${limit} · 10 too many`)).toBeVisible();
    await expect(send).toBeDisabled();
    await expect(composer).toHaveAttribute("aria-invalid", "true");
    // Near the limit but within it: the counter stays, and Send is back.
    await composer.fill("y".repeat(limit - 5));
    await expect(ana.getByText(`${limit - 5} / ${limit}`, { exact: true })).toBeVisible();
    await expect(send).toBeEnabled();

    await admin.screenshot({ path: `${SCREENSHOT_DIR}/admin-settings.png`, fullPage: true });
  } finally {
    // Other specs share this server: put the length back.
    await updateSettings(admin, { maxMessageLength: original });
    await composer.fill("").catch(() => undefined);
  }
  await expect(ana.getByText(`${limit - 5} / ${limit}`, { exact: true })).toHaveCount(0);
});

test("the admin pages are refused to people without the permission", async ({ browser }) => {
  const ben = await signedInPage(browser, BEN);
  await ben.getByRole("button", { name: /Account menu for/ }).click();
  await expect(ben.getByRole("menuitem", { name: "Sign out" })).toBeVisible();
  await expect(ben.getByRole("menuitem", { name: "Messaging settings" })).toHaveCount(0);
  await ben.keyboard.press("Escape");

  for (const path of [SETTINGS_PATH, "/dashboard/audit"]) {
    await ben.goto(path);
    await expect(ben.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
  }
});

test("an admin filters the audit log", async ({ browser }) => {
  // A failed sign-in makes sure the log has an entry whatever ran before.
  const stranger = await browser.newPage();
  await signIn(stranger, ADMIN.email, "not the password");
  await expect(stranger.getByText("Wrong email or password.")).toBeVisible();

  const admin = await signedInPage(browser, ADMIN);
  await admin.getByRole("button", { name: /Account menu for/ }).click();
  await admin.getByRole("menuitem", { name: "Audit log" }).click();
  await expect(admin).toHaveURL("/dashboard/audit");
  await expect(admin.getByRole("heading", { level: 1, name: "Audit log" })).toBeVisible();
  const table = admin.getByRole("table", { name: "Audit log entries" });
  await expect(table.getByRole("row").nth(1)).toBeVisible();

  // Only the chosen action is listed.
  await expect(admin.getByRole("option", { name: "auth.sign_in_failed" })).toBeAttached();
  await admin.getByLabel("Action", { exact: true }).selectOption("auth.sign_in_failed");
  await admin.getByRole("button", { name: "Apply filters" }).click();
  await expect(table.getByRole("row").nth(1)).toContainText("auth.sign_in_failed");
  const actions = await table.locator("tbody tr td:nth-child(2)").allTextContents();
  expect(new Set(actions)).toEqual(new Set(["auth.sign_in_failed"]));

  // A day range that ends before it starts is refused at the field.
  await admin.getByLabel("From", { exact: true }).fill("2030-01-02");
  await admin.getByLabel("To", { exact: true }).fill("2030-01-01");
  await admin.getByRole("button", { name: "Apply filters" }).click();
  await expect(admin.getByText("The end of the range must be after its start.")).toBeVisible();
  await admin.getByLabel("To", { exact: true }).fill("2030-01-03");
  await admin.getByRole("button", { name: "Apply filters" }).click();
  await expect(admin.getByText("No entries match these filters.")).toBeVisible();

  await admin.getByRole("button", { name: "Reset" }).click();
  await expect(table.getByRole("row").nth(1)).toBeVisible();
  await expectAccessible(admin, "the audit log page");
  await admin.screenshot({ path: `${SCREENSHOT_DIR}/admin-audit.png`, fullPage: true });
});
