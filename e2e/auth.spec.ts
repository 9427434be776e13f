import path from "node:path";
import { expect, test } from "@playwright/test";

import {
  ANA,
  BEN,
  DEMO_PASSWORD,
  SCREENSHOT_DIR,
  currentUserId,
  fillSignUpForm,
  firstEventsReply,
  signIn,
  signInAsDemoUser,
  uniqueAccount,
} from "./fixtures";

const WRONG_CREDENTIALS = "Wrong email or password.";

test.describe("signing in", () => {
  test("a demo user signs in from the home page and lands back on it", async ({ page }) => {
    await page.goto("/");
    await expect(page).toHaveURL("/sign-in");
    await expect(page.getByRole("heading", { name: "Sign in to Chatline" })).toBeVisible();
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "sign-in.png"), fullPage: true });

    await page.getByLabel("Email").fill(ANA.email);
    await page.getByLabel("Password").fill(DEMO_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();

    await expect(page).toHaveURL("/");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`You're signed in as ${ANA.name}`);
    await expect(page.getByText(ANA.email, { exact: true })).toBeVisible();
    await expect(page.getByRole("button", { name: `Account menu for ${ANA.name}` })).toBeVisible();
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "home-signed-in.png"), fullPage: true });
  });

  test("a wrong password and an unknown email get the same message", async ({ page }) => {
    await signIn(page, BEN.email, "not-the-password");
    await expect(page.getByRole("alert").filter({ hasText: WRONG_CREDENTIALS })).toBeVisible();
    await expect(page).toHaveURL("/sign-in");
    await expect(page.getByLabel("Password")).toHaveValue("");

    await signIn(page, "nobody-here@example.com", DEMO_PASSWORD);
    await expect(page.getByRole("alert").filter({ hasText: WRONG_CREDENTIALS })).toBeVisible();
    await expect(page).toHaveURL("/sign-in");
  });

  test("a failed provider sign-in explains itself without echoing the URL", async ({ page }) => {
    // Next's route announcer is an (empty) alert too; the form's is the one with text.
    const formAlert = page.getByRole("alert").filter({ hasText: /\S/ });
    await page.goto("/sign-in?error=OAuthAccountNotLinked");
    await expect(formAlert).toHaveText(/An account with this email already exists/);
    await page.goto(`/sign-in?error=${encodeURIComponent("Call 555-0100 to unlock your account")}`);
    await expect(formAlert).toHaveText("Sign-in failed. Try again.");
    await expect(page.getByText("555-0100")).toHaveCount(0);
  });
});

test.describe("signing up", () => {
  test("a new person signs up and lands signed in under their name", async ({ page }) => {
    const account = uniqueAccount("signup");
    await fillSignUpForm(page, account);

    await expect(page).toHaveURL("/");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`You're signed in as ${account.name}`);
    await expect(page.getByText(account.email, { exact: true })).toBeVisible();
  });

  test("signing up again with the same email shows the server's answer", async ({ page }) => {
    const account = uniqueAccount("duplicate");
    await fillSignUpForm(page, account);
    await expect(page).toHaveURL("/");
    await page.context().clearCookies();

    await fillSignUpForm(page, { ...account, name: "Someone Else" });
    await expect(page.getByText("An account with this email already exists. Sign in instead.")).toBeVisible();
    await expect(page).toHaveURL("/sign-up");
    await expect(page.getByLabel("Email")).toBeFocused();
  });

  test("a too-short password is refused by the form before anything is sent", async ({ page }) => {
    const signUpRequests: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/api/trpc/auth.signUp")) signUpRequests.push(request.url());
    });

    await fillSignUpForm(page, { ...uniqueAccount("short"), password: "short" });

    await expect(page.getByText("Use at least 8 characters.")).toBeVisible();
    await expect(page.getByLabel("Password")).toHaveAttribute("aria-invalid", "true");
    await expect(page).toHaveURL("/sign-up");
    expect(signUpRequests).toEqual([]);
  });
});

test.describe("signing out", () => {
  test("the sign-out button ends the session", async ({ page }) => {
    await signInAsDemoUser(page, ANA);

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL("/sign-in");

    await page.goto("/");
    await expect(page).toHaveURL("/sign-in");
  });

  test("the user menu signs out too", async ({ page }) => {
    await signInAsDemoUser(page, BEN);

    await page.getByRole("button", { name: `Account menu for ${BEN.name}` }).click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await expect(page).toHaveURL("/sign-in");

    await page.goto("/");
    await expect(page).toHaveURL("/sign-in");
  });
});

test.describe("the session on the WebSocket", () => {
  test("a signed-in page's socket gets the ready event for its user", async ({ page }) => {
    await signInAsDemoUser(page, ANA);
    const userId = await currentUserId(page);

    const reply = await firstEventsReply(page);

    expect(reply.error).toBeUndefined();
    expect(reply.result?.type).toBe("data");
    // Tracked: the id is the cursor the client resumes from after a reconnect.
    expect(reply.result?.id).toMatch(/^\d+$/);
    expect(reply.result?.data?.json).toMatchObject({ id: reply.result?.id, data: { type: "ready", userId } });
  });

  test("a signed-out page's socket is refused as unauthorized", async ({ page }) => {
    await page.goto("/sign-in");

    const reply = await firstEventsReply(page);

    expect(reply.result).toBeUndefined();
    expect(reply.error?.json.data.code).toBe("UNAUTHORIZED");
  });
});
