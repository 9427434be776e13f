import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { expectAccessible, fillSignUpForm, SCREENSHOT_DIR, uniqueAccount } from "./fixtures";

// Message search: a word from an old message is found, grouped under its
// conversation with the word marked, and opens the conversation at that message,
// from where scrolling loads newer messages down to the live end and older ones up
// to the first.

test.describe.configure({ mode: "serial", timeout: 120_000 });

/** Enough that the window around the message searched for (6..55) meets neither the first nor the newest page (71..120). */
const TOTAL = 120;
/** Sent by the partner; the window around it holds 6..55. */
const TARGET = 31;

type StorageState = Awaited<ReturnType<BrowserContext["storageState"]>>;

interface Seeded {
  conversationId: string;
  word: string;
  partnerName: string;
  readerState: StorageState;
  partnerState: StorageState;
}

let seeded: Seeded;

async function signUp(browser: Browser, label: string) {
  const account = uniqueAccount(label);
  const page = await (await browser.newContext()).newPage();
  await fillSignUpForm(page, account);
  // Password hashing is deliberately slow (scrypt).
  await expect(page).toHaveURL("/", { timeout: 20_000 });
  return { page, account };
}

async function send(page: Page, conversationId: string, content: string, clientMessageId: string) {
  const response = await page.request.post("/api/trpc/messages.send", {
    headers: { origin: new URL(page.url()).origin },
    data: { json: { conversationId, content, clientMessageId } },
  });
  expect(response.ok(), await response.text()).toBe(true);
}

async function pageWith(browser: Browser, storageState: StorageState): Promise<Page> {
  return (await browser.newContext({ storageState })).newPage();
}

test.beforeAll(async ({ browser }) => {
  // Two sign-ups (scrypt) and 120 sends take longer than a hook's default 30 s on a slow machine.
  test.setTimeout(120_000);
  // New people each run: the conversation holds exactly the messages sent here.
  const [reader, partner] = await Promise.all([signUp(browser, "reader"), signUp(browser, "partner")]);
  await reader.page.goto("/messages");
  await reader.page.getByRole("button", { name: "New conversation" }).click();
  await reader.page.getByLabel("Search people").fill(partner.account.email);
  await reader.page.getByRole("button", { name: new RegExp(partner.account.name) }).click();
  await expect(reader.page.getByRole("heading", { level: 1, name: partner.account.name })).toBeVisible();
  const conversationId = reader.page.url().split("/").pop()!;

  // Letters only, so the search's English stemming treats it as one plain word.
  const word = `zephyr${Array.from({ length: 8 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join("")}`;
  // Through the API (the procedure the composer uses), taking turns; the last one is the reader's, so nothing is unread.
  for (let index = 1; index <= TOTAL; index += 1) {
    const author = index % 2 === 1 ? partner.page : reader.page;
    const content = index === TARGET ? `Line ${index}: the code word is ${word}` : `Line ${index}`;
    await send(author, conversationId, content, `line-${index}`);
  }
  seeded = {
    conversationId,
    word,
    partnerName: partner.account.name,
    readerState: await reader.page.context().storageState(),
    partnerState: await partner.page.context().storageState(),
  };
  await reader.page.context().close();
  await partner.page.context().close();
});

test("a search on the messages page opens the conversation at the message, and scrolling goes both ways from there", async ({ browser }) => {
  const { conversationId, word, partnerName } = seeded;
  const reader = await pageWith(browser, seeded.readerState);
  const partner = await pageWith(browser, seeded.partnerState);
  await partner.goto("/");

  // The conversation is open at its newest messages, the reader at the bottom.
  await reader.goto(`/messages/${conversationId}`);
  const list = reader.getByRole("list", { name: "Messages", exact: true });
  await expect(list.getByText(`Line ${TOTAL}`, { exact: true })).toBeVisible();
  const nav = reader.getByRole("navigation", { name: "Conversations" });
  const field = nav.getByRole("searchbox", { name: "Search messages" });
  await field.fill(word);

  // Grouped under the conversation's title (the other person's name), the word marked.
  const group = nav.getByRole("list", { name: `Results in ${partnerName}` });
  await expect(nav.getByRole("heading", { level: 4, name: partnerName })).toBeVisible();
  const hit = group.getByRole("link");
  await expect(hit).toHaveCount(1);
  await expect(hit.locator("mark")).toHaveText(word);
  await expect(hit).toContainText(partnerName);
  await expect(nav.getByText(/^1 message found$/)).toBeAttached();
  await expectAccessible(reader, "the search results");

  await hit.click();
  await expect(reader).toHaveURL(new RegExp(`/messages/${conversationId}\\?message=[0-9a-f-]{36}&seq=${TARGET}$`));
  // The result stays listed beside the conversation, marked as the one open.
  await expect(hit).toHaveAttribute("aria-current", "page");

  const highlighted = list.locator("[data-highlighted]");
  await expect(highlighted).toHaveCount(1);
  await expect(highlighted).toContainText(`Line ${TARGET}: the code word is ${word}`);
  await expect(highlighted).toHaveAttribute("aria-current", "true");
  await expect(highlighted).toBeInViewport();
  // A window of history: neither end is loaded, and the way to the newest is offered.
  await expect(list.getByText(`Line ${TOTAL}`, { exact: true })).toHaveCount(0);
  await expect(list.getByText("Line 1", { exact: true })).toHaveCount(0);
  const jump = reader.getByRole("button", { name: "Jump to latest" });
  await expect(jump).toBeVisible();
  await reader.screenshot({ path: `${SCREENSHOT_DIR}/search-result-opened.png` });

  // Back is the conversation at its newest again; Forward the message again.
  await reader.goBack();
  await expect(reader).toHaveURL(new RegExp(`/messages/${conversationId}$`));
  await expect(list.getByText(`Line ${TOTAL}`, { exact: true })).toBeVisible();
  await expect(jump).toHaveCount(0);
  await reader.goForward();
  await expect(highlighted).toBeInViewport();
  await expect(jump).toBeVisible();

  // A message that arrives meanwhile is not put after the gap: the unread count shows
  // it came (the reader's own last message had left nothing unread).
  await send(partner, conversationId, "Live while away", "live-1");
  await expect(reader).toHaveTitle(/^\(1\) /);
  await expect(list.getByText("Live while away")).toHaveCount(0);

  // Scrolling down loads newer pages until the newest message; then the view is live.
  const scroller = list.locator("xpath=..");
  await expect(async () => {
    await scroller.evaluate((element) => element.scrollBy(0, 4000));
    await expect(list.getByText("Live while away", { exact: true })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await expect(list.getByText(`Line ${TOTAL}`, { exact: true })).toBeVisible();
  await expect(jump).toHaveCount(0);
  await send(partner, conversationId, "Live at the bottom", "live-2");
  await expect(list.getByText("Live at the bottom", { exact: true })).toBeVisible();

  // Scrolling up loads older pages, past the window's first message (6), back to the very first.
  await expect(async () => {
    await scroller.evaluate((element) => element.scrollBy(0, -4000));
    await expect(list.getByText("Line 1", { exact: true })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });

  // Escape closes the search: the conversation list is back.
  await field.focus();
  await reader.keyboard.press("Escape");
  await expect(field).toHaveValue("");
  await expect(nav.getByRole("list", { name: "Conversations" })).toBeVisible();
  await reader.context().close();
  await partner.context().close();
});

test("the panel searches too, says when nothing matches, and opens a result in place", async ({ browser }) => {
  const { word, partnerName } = seeded;
  const reader = await pageWith(browser, seeded.readerState);
  await reader.goto("/");
  await reader.getByRole("button", { name: /^Messages/ }).click();
  const panel = reader.getByRole("dialog", { name: "Messages" });
  const field = panel.getByRole("searchbox", { name: "Search messages" });

  await field.fill("the");
  await expect(panel.getByText(/^Search for less common words/)).toBeVisible();
  await field.fill(`${word}x`);
  await expect(panel.getByText(`No messages match “${word}x”.`)).toBeVisible();

  // A word in every line: a page of results at a time.
  await field.fill("line");
  const lines = panel.getByRole("list", { name: `Results in ${partnerName}` }).getByRole("link");
  await expect(lines).toHaveCount(20);
  await expect(panel.getByText("20+ messages found")).toBeAttached();
  await panel.getByRole("button", { name: "Load more" }).click();
  await expect(lines).toHaveCount(40);

  // The partner's name finds the conversation; the word finds the message.
  await field.fill(partnerName.split(" ").pop()!);
  await expect(panel.getByRole("heading", { name: "Conversations" })).toBeVisible();
  await expect(panel.getByRole("link", { name: new RegExp(partnerName) })).toBeVisible();
  await field.fill(word);
  await field.press("Enter");
  const hit = panel.getByRole("list", { name: `Results in ${partnerName}` }).getByRole("link");
  await expect(hit.locator("mark")).toHaveText(word);
  // The keyboard reaches the result from the field.
  await field.press("ArrowDown");
  await expect(hit).toBeFocused();
  await reader.keyboard.press("Enter");

  const highlighted = panel.getByRole("list", { name: "Messages", exact: true }).locator("[data-highlighted]");
  await expect(highlighted).toContainText(word);
  await expect(highlighted).toBeInViewport();
  await expect(panel.getByRole("button", { name: "Jump to latest" })).toBeVisible();

  await reader.screenshot({ path: `${SCREENSHOT_DIR}/search-panel-result.png` });

  // From inside the conversation, a search limited to it.
  await panel.getByRole("button", { name: "Search in this conversation" }).click();
  await expect(field).toBeFocused();
  await expect(field).toHaveAttribute("placeholder", `Search in ${partnerName}`);
  await expect(panel.getByRole("button", { name: "Search filters, 1 on" })).toBeVisible();
  await expect(panel.getByRole("heading", { name: "Conversations" })).toHaveCount(0);
  await expect(hit.locator("mark")).toHaveText(word);
  await panel.getByRole("button", { name: "Search filters, 1 on" }).click();
  await expect(panel.getByRole("checkbox", { name: `Only in ${partnerName}` })).toBeChecked();

  // Back returns to the results, on the result just opened.
  await hit.click();
  await expect(highlighted).toBeInViewport();
  await panel.getByRole("button", { name: "Back to conversations" }).click();
  await expect(hit).toBeFocused();
  // Escape clears the search first (the panel stays, the list is back), then closes the panel.
  await reader.keyboard.press("Escape");
  await expect(field).toHaveValue("");
  await expect(field).toBeFocused();
  await expect(panel.getByRole("list", { name: "Conversations" })).toBeVisible();
  await reader.keyboard.press("Escape");
  await expect(panel).toHaveCount(0);
  await reader.context().close();
});
