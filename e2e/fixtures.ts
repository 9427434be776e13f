import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "@playwright/test";

// What the specs do the way a person does it, plus the raw tRPC WebSocket
// exchange for checking that the session cookie authenticates the socket.

/** Created on first start of an empty embedded database (src/features/auth/demo-users.ts). */
export const DEMO_PASSWORD = "chatline-demo";
export const ANA = { email: "ana@example.com", name: "Ana Lima" };
export const BEN = { email: "ben@example.com", name: "Ben Okafor" };

export const SCREENSHOT_DIR = "test-results/screenshots";

export type NewAccount = { name: string; email: string; password: string };

/** An account no earlier run has created, even against a reused server. */
export function uniqueAccount(label: string): NewAccount {
  const stamp = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  return { name: `E2E ${label}`, email: `e2e-${label}-${stamp}@example.com`, password: "correct horse battery" };
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function signInAsDemoUser(page: Page, user: { email: string; name: string }): Promise<void> {
  await signIn(page, user.email, DEMO_PASSWORD);
  await expect(page).toHaveURL("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`You're signed in as ${user.name}`);
}

export async function fillSignUpForm(page: Page, account: NewAccount): Promise<void> {
  await page.goto("/sign-up");
  await page.getByLabel("Name").fill(account.name);
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Create account" }).click();
}

/** The signed-in user's id, from the same HTTP API the app's pages use. */
export async function currentUserId(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const response = await fetch("/api/trpc/auth.me");
    if (!response.ok) throw new Error(`auth.me answered ${response.status}`);
    const body = (await response.json()) as { result: { data: { json: { id: string } } } };
    return body.result.data.json.id;
  });
}

/**
 * One reply of the tRPC 11 WebSocket protocol. With the superjson transformer,
 * result data and error shapes are wrapped as `{ json, meta? }`.
 */
export type TrpcSocketReply = {
  id: number | string | null;
  result?: { type: "started" | "data" | "stopped"; id?: string; data?: { json: Record<string, unknown> } };
  error?: { json: { message: string; code: number; data: { code: string } } };
};

const EVENTS_SUBSCRIPTION_ID = 1;

/**
 * Opens a socket from the page (so the browser sends its cookies and Origin, as
 * the app's own client does), subscribes to events.onEvent and returns the first
 * reply that is data or an error.
 */
export async function firstEventsReply(page: Page): Promise<TrpcSocketReply> {
  const subscribeMessage = {
    id: EVENTS_SUBSCRIPTION_ID,
    method: "subscription",
    // What wsLink sends for a procedure called without input: superjson's encoding of undefined.
    params: { path: "events.onEvent", input: { json: null, meta: { values: ["undefined"], v: 1 } } },
  };
  return page.evaluate(
    ({ message }) =>
      new Promise<TrpcSocketReply>((resolve, reject) => {
        const socket = new WebSocket(`ws://${window.location.host}/api/trpc-ws`);
        let settled = false;
        const settle = (finish: () => void) => {
          if (settled) return;
          settled = true;
          finish();
          socket.close();
        };
        socket.addEventListener("open", () => socket.send(JSON.stringify(message)));
        socket.addEventListener("message", (event) => {
          let reply: TrpcSocketReply;
          try {
            reply = JSON.parse(String(event.data)) as TrpcSocketReply;
          } catch {
            // Keep-alive frames ("PING"/"PONG") are plain text.
            return;
          }
          if (reply.id !== message.id || reply.result?.type === "started") return;
          settle(() => resolve(reply));
        });
        socket.addEventListener("close", (event) =>
          settle(() => reject(new Error(`socket closed (code ${event.code}) before a reply`))),
        );
      }),
    { message: subscribeMessage },
  );
}

/** No serious or critical accessibility violation (axe) in what is on screen. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
  expect(
    serious.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(" ")).join("; ")})`),
    `accessibility of ${what}`,
  ).toEqual([]);
}

/** Contexts opened through newTestContext, by the test that opened them. */
const openContexts: { testId: string; context: BrowserContext }[] = [];

/**
 * A new browser context for the running test. Those earlier tests left open are
 * closed first: every open page keeps its event stream, its polling and its
 * refetches going, and a worker that kept them all made later sign-ins slow
 * enough to miss their waits.
 */
export async function newTestContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const testId = test.info().testId;
  for (const entry of openContexts.filter((candidate) => candidate.testId !== testId)) {
    openContexts.splice(openContexts.indexOf(entry), 1);
    await entry.context.close().catch(() => undefined);
  }
  const context = await browser.newContext(options);
  openContexts.push({ testId, context });
  return context;
}

/** A new browser context signed in as `user` (a demo user), on the home page. */
export async function signedInPage(browser: Browser, user: { email: string; name?: string }, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await newTestContext(browser, options);
  const page = await context.newPage();
  await signIn(page, user.email, DEMO_PASSWORD);
  await expect(page).toHaveURL("/");
  return page;
}
