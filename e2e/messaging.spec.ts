import { expect, test } from "@playwright/test";
import { ANA, BEN, signedInPage } from "./fixtures";

// Two people in two browsers: what one sends appears at the other's live.

test("a message sent in one browser appears live in the other's", async ({ browser }) => {
  const ana = await signedInPage(browser, ANA);
  const ben = await signedInPage(browser, BEN);
  await ben.goto("/messages");
  await expect(ben.getByRole("heading", { name: "Your messages" })).toBeVisible();

  await ana.goto("/messages");
  await ana.getByRole("button", { name: "New conversation" }).click();
  await ana.getByLabel("Search people").fill("Ben");
  await ana.getByRole("button", { name: /Ben Okafor/ }).click();
  await expect(ana.getByRole("heading", { level: 1, name: BEN.name })).toBeVisible();

  const text = `Hello Ben, it is ${new Date().toISOString()}`;
  await ana.getByRole("textbox", { name: "Message", exact: true }).fill(text);
  await ana.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
  await expect(ana.getByRole("list", { name: "Messages" }).getByText(text)).toBeVisible();

  // Ben did nothing: the conversation and its unread badge arrive by themselves.
  const benList = ben.getByRole("navigation", { name: "Conversations" });
  await expect(benList.getByRole("link", { name: new RegExp(ANA.name) })).toBeVisible();
  await expect(benList.getByLabel("1 unread")).toBeVisible();
  await expect(ben).toHaveTitle("(1) Messages · Chatline");
  await benList.getByRole("link", { name: new RegExp(ANA.name) }).click();
  await expect(ben.getByRole("list", { name: "Messages" }).getByText(text)).toBeVisible();
  await expect(benList.getByLabel("1 unread")).toHaveCount(0);

  await expect(ben).toHaveTitle("Messages · Chatline");
  // Both are connected: each sees the other online, and typing shows before the message.
  await expect(ana.getByText("Online")).toBeVisible();
  const reply = "Hi Ana!";
  await ben.getByRole("textbox", { name: "Message", exact: true }).pressSequentially("Hi");
  await expect(ana.getByText(`${BEN.name} is typing…`)).toBeVisible();
  await ben.getByRole("textbox", { name: "Message", exact: true }).fill(reply);
  await ben.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
  await expect(ana.getByRole("list", { name: "Messages" }).getByText(reply)).toBeVisible();
  await expect(ana.getByText(`${BEN.name} is typing…`)).toHaveCount(0);

  // Reactions, edits and deletions show on both sides.
  const anaMessages = ana.getByRole("list", { name: "Messages" });
  const benMessages = ben.getByRole("list", { name: "Messages" });
  const replyItem = anaMessages.getByRole("listitem").filter({ hasText: reply });
  await replyItem.hover();
  await replyItem.getByRole("button", { name: "React" }).click();
  await ana.getByRole("menuitem", { name: "React with 👍" }).click();
  await expect(benMessages.getByRole("button", { name: "👍 1" })).toBeVisible();

  const ownItem = anaMessages.getByRole("listitem").filter({ hasText: text });
  await ownItem.hover();
  await ownItem.getByRole("button", { name: "More actions" }).click();
  await ana.getByRole("menuitem", { name: "Edit" }).click();
  await ana.getByLabel("Edit message").fill("Hello Ben (edited)");
  await ana.getByLabel("Edit message").press("Enter");
  await expect(benMessages.getByText("Hello Ben (edited)")).toBeVisible();
  await expect(benMessages.getByText(/· edited/)).toBeVisible();

  const editedItem = anaMessages.getByRole("listitem").filter({ hasText: "Hello Ben (edited)" });
  await editedItem.hover();
  await editedItem.getByRole("button", { name: "More actions" }).click();
  await ana.getByRole("menuitem", { name: "Delete" }).click();
  await ana.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await expect(benMessages.getByText("This message was deleted")).toBeVisible();
  await expect(benMessages.getByText("Hello Ben (edited)")).toHaveCount(0);
  await ana.screenshot({ path: "test-results/screenshots/conversation.png" });
});

test("the header's message icon shows new messages live and opens a panel to answer them", async ({ browser }) => {
  const cleo = await signedInPage(browser, { email: "cleo@example.com", name: "Cleo Park" });
  const dev = await signedInPage(browser, { email: "dev@example.com", name: "Dev Patel" });
  await expect(cleo.getByRole("button", { name: "Messages", exact: true })).toBeVisible();

  await dev.goto("/messages");
  await dev.getByRole("button", { name: "New conversation" }).click();
  await dev.getByLabel("Search people").fill("Cleo");
  await dev.getByRole("button", { name: /Cleo Park/ }).click();
  await dev.getByRole("textbox", { name: "Message", exact: true }).fill("Lunch at noon?");
  await dev.getByRole("textbox", { name: "Message", exact: true }).press("Enter");

  // Cleo stayed on the home page: the badge comes to her.
  const icon = cleo.getByRole("button", { name: "Messages, 1 unread" });
  await expect(icon).toBeVisible();
  await icon.click();
  const panel = cleo.getByRole("dialog", { name: "Messages" });
  await panel.getByRole("link", { name: /Dev Patel/ }).click();
  await expect(panel.getByRole("list", { name: "Messages" }).getByText("Lunch at noon?")).toBeVisible();
  await panel.getByRole("textbox", { name: "Message", exact: true }).fill("Yes!");
  await panel.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
  await expect(dev.getByRole("list", { name: "Messages" }).getByText("Yes!")).toBeVisible();
  await cleo.screenshot({ path: "test-results/screenshots/panel.png" });
  // Answering read the conversation: with the panel closed (Esc), the badge is gone.
  await cleo.keyboard.press("Escape");
  await expect(panel).toHaveCount(0);
  await expect(cleo.getByRole("button", { name: "Messages", exact: true })).toBeVisible();
});
