import { expect, test, type Browser, type Page } from "@playwright/test";
import { fillSignUpForm, newTestContext, SCREENSHOT_DIR, uniqueAccount, type NewAccount } from "./fixtures";

// Files in a conversation, as people share them: a screenshot pasted into the
// composer reaches the other side as an image that opens in a viewer; a document
// is a card with a download; a file whose content is not what its name says is
// refused with the server's reason, and nothing is sent.

test.describe.configure({ timeout: 90_000 });

type Member = { page: Page; account: NewAccount };

async function newMember(browser: Browser, label: string): Promise<Member> {
  const page = await (await newTestContext(browser)).newPage();
  const account = uniqueAccount(label);
  await fillSignUpForm(page, account);
  await expect(page).toHaveURL("/", { timeout: 20_000 });
  return { page, account };
}

const messageList = (page: Page) => page.getByRole("list", { name: "Messages" });
const composer = (page: Page) => page.getByRole("textbox", { name: "Message", exact: true });

/** `from` opens the direct conversation with `to` and says hello; `to` opens it too. */
async function converse(from: Member, to: Member) {
  await from.page.goto("/messages");
  await from.page.getByRole("button", { name: "New conversation" }).click();
  await from.page.getByLabel("Search people").fill(to.account.email);
  await from.page.getByRole("button", { name: new RegExp(to.account.name) }).click();
  await expect(from.page.getByRole("heading", { level: 1, name: to.account.name })).toBeVisible();
  const hello = `Hello ${Date.now()}`;
  await composer(from.page).fill(hello);
  await composer(from.page).press("Enter");
  await expect(messageList(from.page).getByText(hello)).toBeVisible();
  await to.page.goto("/messages");
  await to.page.getByRole("link", { name: new RegExp(from.account.name) }).first().click();
  await expect(messageList(to.page).getByText(hello)).toBeVisible();
}

const PDF = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/** A PDF dropped on the conversation, as a file dragged from the desktop is. */
async function dropPdf(page: Page, name: string) {
  await messageList(page).evaluate(
    (element, file) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([file.text], file.name, { type: "application/pdf" }));
      for (const type of ["dragenter", "dragover", "drop"]) {
        element.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }
    },
    { name, text: PDF },
  );
}

/** A 240×160 PNG drawn by the page itself, pasted into the composer as a screenshot would be. */
async function pasteScreenshot(page: Page) {
  await composer(page).evaluate(async (element) => {
    const canvas = document.createElement("canvas");
    canvas.width = 240;
    canvas.height = 160;
    const context = canvas.getContext("2d")!;
    context.fillStyle = "#1d4ed8";
    context.fillRect(0, 0, 240, 160);
    context.fillStyle = "#fbbf24";
    context.fillRect(60, 40, 120, 80);
    const blob = await new Promise<Blob>((resolve) => canvas.toBlob((result) => resolve(result!), "image/png"));
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], "image.png", { type: "image/png" }));
    element.focus();
    element.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
  });
}

test("a pasted screenshot reaches the other side as an image that opens in a viewer", async ({ browser }) => {
  const ana = await newMember(browser, "paste-ana");
  const ben = await newMember(browser, "paste-ben");
  await converse(ana, ben);

  await pasteScreenshot(ana.page);
  const pending = ana.page.getByTestId("pending-attachment");
  await expect(pending).toHaveCount(1);
  await expect(pending).toHaveAttribute("data-state", "done");
  await expect(pending).toHaveAccessibleName(/^Pasted image .+\.png$/);
  await composer(ana.page).fill("the new logo");
  await ana.page.screenshot({ path: `${SCREENSHOT_DIR}/attachment-composer.png` });
  await composer(ana.page).press("Enter");
  await expect(pending).toHaveCount(0);

  // Ben's page, open on the conversation, gets it live.
  const image = messageList(ben.page).getByRole("img", { name: /^Pasted image .+\.png$/ });
  await expect(image).toBeVisible();
  await expect(messageList(ben.page).getByText("the new logo")).toBeVisible();
  // The thumbnail really loaded (the server made it; a broken image has no natural size).
  await expect.poll(() => image.evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth)).toBe(240);
  await ben.page.screenshot({ path: `${SCREENSHOT_DIR}/attachment-image.png` });

  await image.click();
  const viewer = ben.page.getByRole("dialog", { name: /^Pasted image .+\.png$/ });
  await expect(viewer).toBeVisible();
  const full = viewer.getByRole("img", { name: /^Pasted image/ });
  await expect.poll(() => full.evaluate((element: HTMLImageElement) => element.complete && element.naturalHeight)).toBe(160);
  await expect(viewer.getByRole("link", { name: /^Download Pasted image/ })).toBeVisible();
  await ben.page.screenshot({ path: `${SCREENSHOT_DIR}/attachment-viewer.png` });
  await ben.page.keyboard.press("Escape");
  await expect(viewer).toHaveCount(0);
});

test("a document is a card with a download, and a .png that is really HTML is refused", async ({ browser }) => {
  const ana = await newMember(browser, "doc-ana");
  const ben = await newMember(browser, "doc-ben");
  await converse(ana, ben);

  const input = ana.page.getByTestId("attachment-input");
  await input.setInputFiles({
    name: "cat.png",
    mimeType: "image/png",
    buffer: Buffer.from("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
  });
  const refused = ana.page.getByTestId("pending-attachment");
  await expect(refused).toHaveAttribute("data-state", "failed");
  await expect(refused.getByRole("alert")).toContainText("cat.png is a file of type text/html, which is not allowed here.");
  await ana.page.screenshot({ path: `${SCREENSHOT_DIR}/attachment-refused.png` });
  await refused.getByRole("button", { name: "Remove cat.png" }).click();
  await expect(refused).toHaveCount(0);

  const pdf = Buffer.from("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n");
  await input.setInputFiles({ name: "Q3 report.pdf", mimeType: "application/pdf", buffer: pdf });
  await expect(ana.page.getByTestId("pending-attachment")).toHaveAttribute("data-state", "done");
  await composer(ana.page).press("Enter");

  const download = messageList(ben.page).getByRole("link", { name: "Download Q3 report.pdf" });
  await expect(download).toBeVisible();
  await ben.page.screenshot({ path: `${SCREENSHOT_DIR}/attachment-file.png` });
  await expect(messageList(ben.page).getByText(/^PDF · \d+ B$/)).toBeVisible();
  const [file] = await Promise.all([ben.page.waitForEvent("download"), download.click()]);
  expect(file.suggestedFilename()).toBe("Q3 report.pdf");

  // The file as a browser fetches it: never something our origin would run.
  const response = await ben.page.request.get((await download.getAttribute("href"))!);
  expect(response.status()).toBe(200);
  expect(response.headers()["x-content-type-options"]).toBe("nosniff");
  expect(response.headers()["content-security-policy"]).toContain("sandbox");
  expect(response.headers()["content-disposition"]).toMatch(/^attachment;/);
  expect(response.headers()["content-type"]).toBe("application/pdf");
  expect(response.headers()["cache-control"]).toBe("private, no-cache");
  // Someone outside the conversation gets nothing.
  const outsider = await newMember(browser, "doc-outsider");
  expect((await outsider.page.request.get((await download.getAttribute("href"))!)).status()).toBe(404);
});

test("a send waits for its dropped file's upload, and a cancelled upload is gone", async ({ browser }) => {
  const ana = await newMember(browser, "drop-ana");
  const ben = await newMember(browser, "drop-ben");
  await converse(ana, ben);

  // The upload is held on its way to the server, as on a slow connection.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await ana.page.route(/\/api\/attachments\?/, async (route) => {
    await held;
    await route.continue();
  });
  await dropPdf(ana.page, "plan.pdf");
  const pending = ana.page.getByTestId("pending-attachment");
  await expect(pending).toHaveAttribute("data-state", "uploading");
  await composer(ana.page).fill("the plan, as promised");
  await composer(ana.page).press("Enter");
  await expect(ana.page.getByText("Sending when the upload finishes…")).toBeVisible();
  // Nothing has gone out yet.
  await ben.page.waitForTimeout(500);
  await expect(messageList(ben.page).getByText("the plan, as promised")).toHaveCount(0);

  release();
  await expect(messageList(ben.page).getByText("the plan, as promised")).toBeVisible();
  await expect(messageList(ben.page).getByRole("link", { name: "Download plan.pdf" })).toBeVisible();
  await expect(pending).toHaveCount(0);
  await ana.page.unroute(/\/api\/attachments\?/);

  // An upload that never finishes is cancelled from its card, and nothing is sent.
  await ana.page.route(/\/api\/attachments\?/, () => new Promise<void>(() => undefined));
  await pasteScreenshot(ana.page);
  await expect(pending).toHaveAttribute("data-state", "uploading");
  await pending.getByRole("button", { name: /^Cancel uploading Pasted image/ }).click();
  await expect(pending).toHaveCount(0);
  await expect(ana.page.getByRole("button", { name: "Send" })).toBeDisabled();
});
