import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { configureRateLimits, rateLimitConfig, SOCKET_FLOOD_CLOSE_CODE } from "~/server/rate-limits";
import type { NodeTrpcClient } from "~/trpc/node-client";
import { TRPC_WS_PATH } from "~/trpc/shared";
import { errorOf, type ClientErrorShape } from "../helpers/error-code";
import { restoreSettingsAfterEach } from "../helpers/settings-snapshot";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// The abuse limits: message writes per user per minute (the settings'
// rateLimitPerMinute), calls and frames per WebSocket connection, and the
// security headers on every response. (The send limit across two instances:
// multi-instance.test.ts.)

/** Small, so a few calls reach it. */
const SOCKET_LIMIT = 10;

let t: TestServer;
let admin: NodeTrpcClient;

beforeAll(async () => {
  t = await startTestServer({ SOCKET_MESSAGES_PER_MINUTE: String(SOCKET_LIMIT) });
  const ada = await t.createUser({ name: "Ada", roles: ["User", "Admin"] });
  admin = await t.client({ userId: ada.id, origin: TEST_APP_ORIGIN });
});
afterAll(async () => {
  await t?.close();
});
restoreSettingsAfterEach(() => t);

/** Two people in a direct conversation; `sender` writes to it. */
async function conversationPair() {
  const [one, two] = await Promise.all([t.createUser({ name: "Sender" }), t.createUser({ name: "Reader" })]);
  const sender = await t.client({ userId: one.id, origin: TEST_APP_ORIGIN });
  const reader = await t.client({ userId: two.id, origin: TEST_APP_ORIGIN });
  const conversation = await sender.api.conversations.createDirect.mutate({ recipientId: two.id });
  let counter = 0;
  const send = (clientMessageId = `m-${++counter}`) =>
    sender.api.messages.send.mutate({ conversationId: conversation.id, content: `message ${clientMessageId}`, clientMessageId });
  return { sender, reader, senderId: one.id, conversation, send };
}

async function setSendLimit(perMinute: number) {
  const updated = await admin.api.settings.update.mutate({ rateLimitPerMinute: perMinute });
  expect(updated.rateLimitPerMinute).toBe(perMinute);
}

function expectTooFast(error: ClientErrorShape, what: string, windowMs = 60_000) {
  expect(error.data.code).toBe("TOO_MANY_REQUESTS");
  expect(error.data.httpStatus).toBe(429);
  const retryAfterMs = error.data.retryAfterMs!;
  expect(retryAfterMs).toBeGreaterThan(0);
  expect(retryAfterMs).toBeLessThanOrEqual(windowMs);
  // The message says when, in whole seconds rounded up.
  expect(error.message).toBe(`${what} Try again in ${Math.ceil(retryAfterMs / 1000)} s.`);
}

describe("the send limit (settings.rateLimitPerMinute)", () => {
  it("refuses the send past the limit with TOO_MANY_REQUESTS and when to retry, storing nothing; others still send", async () => {
    await setSendLimit(3);
    const { send, conversation } = await conversationPair();
    for (let i = 0; i < 3; i++) await send();
    expectTooFast(await errorOf(send()), "You are sending messages too fast.");
    expect(await t.server.database.prisma.message.count({ where: { conversationId: conversation.id } })).toBe(3);
    // The limit is per sender.
    const other = await conversationPair();
    await other.send();
  });

  it("answers a retry of a stored message without charging it, even at the limit", async () => {
    await setSendLimit(2);
    const { send, conversation } = await conversationPair();
    const first = await send("first");
    // A retry (the response was lost) gets the original and costs nothing...
    expect((await send("first")).id).toBe(first.id);
    await send("second");
    // ...also once the limit is reached: the outbox's retry is answered, not refused.
    expect((await send("first")).id).toBe(first.id);
    expectTooFast(await errorOf(send("third")), "You are sending messages too fast.");
    expect(await t.server.database.prisma.message.count({ where: { conversationId: conversation.id } })).toBe(2);
  });

  it("follows a change of the setting at once, within the minute already counted", async () => {
    await setSendLimit(2);
    const { send } = await conversationPair();
    await send();
    await send();
    expect((await errorOf(send())).data.code).toBe("TOO_MANY_REQUESTS");
    // Refused attempts are not counted: raised by one, exactly one more goes through.
    await setSendLimit(3);
    await send();
    expect((await errorOf(send())).data.code).toBe("TOO_MANY_REQUESTS");
    // Lowered below what was sent: refused at once.
    await setSendLimit(100);
    await send();
    await setSendLimit(1);
    expect((await errorOf(send())).data.code).toBe("TOO_MANY_REQUESTS");
  });

  it("counts edits and reactions on their own, each against the same setting", async () => {
    await setSendLimit(2);
    const { send, sender } = await conversationPair();
    const one = await send();
    const two = await send();
    expect((await errorOf(send())).data.code).toBe("TOO_MANY_REQUESTS");
    // Sends used up; reactions and edits have counts of their own.
    await sender.api.messages.react.mutate({ messageId: one.id, emoji: "👍" });
    await sender.api.messages.react.mutate({ messageId: two.id, emoji: "👍" });
    expectTooFast(await errorOf(sender.api.messages.react.mutate({ messageId: one.id, emoji: "🎉" })), "You are reacting too fast.");
    await sender.api.messages.edit.mutate({ messageId: one.id, content: "edited once" });
    await sender.api.messages.edit.mutate({ messageId: one.id, content: "edited twice" });
    expectTooFast(await errorOf(sender.api.messages.edit.mutate({ messageId: one.id, content: "thrice" })), "You are editing messages too fast.");
    // Deleting is never limited (it takes content away; moderators clean up floods).
    await sender.api.messages.delete.mutate({ messageId: two.id });
  });

  it("lets the sender write again once the window is over", async () => {
    const saved = rateLimitConfig();
    // A 2-second window instead of a minute (counts start afresh).
    configureRateLimits({ ...saved, messageWindowSeconds: 2 });
    try {
      await setSendLimit(2);
      const { send } = await conversationPair();
      // Sends until refused: however slow this machine, the window fills up eventually.
      let refusal: ClientErrorShape | undefined;
      for (let attempt = 0; attempt < 20 && !refusal; attempt++) {
        refusal = await send().then(
          () => undefined,
          (error: unknown) => error as ClientErrorShape,
        );
      }
      expect(refusal).toBeDefined();
      expectTooFast(refusal!, "You are sending messages too fast.", 2_000);
      await new Promise((resolve) => setTimeout(resolve, refusal!.data.retryAfterMs!));
      await vi.waitFor(() => send(), { timeout: 5_000, interval: 100 });
    } finally {
      configureRateLimits(saved);
    }
  });
});

describe("the limit per WebSocket connection (SOCKET_MESSAGES_PER_MINUTE)", () => {
  const wsUrl = () => `${t.baseUrl.replace(/^http/, "ws")}${TRPC_WS_PATH}`;
  const UNDEFINED_INPUT = { json: null, meta: { values: ["undefined"], v: 1 } };

  async function openSocket(userId: string) {
    const socket = new WebSocket(wsUrl(), { headers: { origin: TEST_APP_ORIGIN, cookie: await t.sessionCookie(userId) } });
    const replies = new Map<number, Record<string, unknown>>();
    let parseErrors = 0;
    socket.on("message", (data) => {
      const reply = JSON.parse(String(data)) as { id?: number | null };
      if (typeof reply.id === "number" && !replies.has(reply.id)) replies.set(reply.id, reply);
      if (reply.id === null) parseErrors += 1;
    });
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    let nextId = 0;
    return {
      socket,
      closed,
      get parseErrors() {
        return parseErrors;
      },
      /** Sends one call; resolves with its (first) reply. */
      async call(method: "query" | "mutation" | "subscription", path: string, input: unknown = UNDEFINED_INPUT) {
        const id = ++nextId;
        socket.send(JSON.stringify({ id, method, params: { path, input } }));
        await vi.waitFor(() => expect(replies.has(id)).toBe(true));
        return replies.get(id) as { result?: unknown; error?: { json: { message: string; data: { code: string; retryAfterMs: number | null } } } };
      },
    };
  }

  it("refuses the calls past the limit with TOO_MANY_REQUESTS, per socket, and closes a socket that keeps on (1008)", async () => {
    const user = await t.createUser({ name: "Chatty" });
    const client = await openSocket(user.id);
    for (let i = 0; i < SOCKET_LIMIT; i++) {
      expect((await client.call("query", "settings.public")).result).toBeDefined();
    }
    const refused = (await client.call("query", "settings.public")).error?.json;
    expect(refused?.data.code).toBe("TOO_MANY_REQUESTS");
    expect(refused?.data.retryAfterMs).toBeGreaterThan(0);
    expect(refused?.data.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(refused?.message).toBe(`Too many requests on this connection. Try again in ${Math.ceil(refused!.data.retryAfterMs! / 1000)} s.`);
    // Subscriptions count too.
    expect((await client.call("subscription", "events.onEvent")).error?.json.data.code).toBe("TOO_MANY_REQUESTS");

    // The budget is the socket's: another connection of the same user, and HTTP, are served.
    const second = await openSocket(user.id);
    expect((await second.call("query", "settings.public")).result).toBeDefined();
    second.socket.close();
    const http = await t.client({ userId: user.id, origin: TEST_APP_ORIGIN });
    expect(await http.api.settings.public.query()).toMatchObject({ enabled: true });

    // Frames past twice the limit in the window close the socket, whatever they carry:
    // 12 frames so far, junk up to 20 is still answered...
    const junk = 2 * SOCKET_LIMIT - (SOCKET_LIMIT + 2);
    for (let i = 0; i < junk; i++) client.socket.send("not even json");
    await vi.waitFor(() => expect(client.parseErrors).toBe(junk));
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    // ...and the 21st closes the socket.
    client.socket.send("not even json");
    expect(await client.closed).toBe(SOCKET_FLOOD_CLOSE_CODE);
  });
});

describe("security headers", () => {
  const REQUIRED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()",
  };

  function directives(policy: string | null): Map<string, string[]> {
    return new Map((policy ?? "").split(";").map((part) => {
      const [name, ...values] = part.trim().split(/\s+/);
      return [name!, values] as const;
    }));
  }

  it("are on every response: tRPC over HTTP, health, and the paths pages are served from", async () => {
    const responses = await Promise.all([
      fetch(`${t.baseUrl}/api/trpc/settings.public`),
      fetch(`${t.baseUrl}/api/trpc/messages.send`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
      fetch(`${t.baseUrl}/api/health`),
      // Pages go to Next.js after the headers are set (this server runs without Next: its 404).
      fetch(`${t.baseUrl}/messages`),
    ]);
    const nonces = new Set<string>();
    for (const response of responses) {
      for (const [name, value] of Object.entries(REQUIRED)) expect(response.headers.get(name), name).toBe(value);
      expect(response.headers.get("strict-transport-security")).toBeNull(); // APP_URL is http here
      const csp = directives(response.headers.get("content-security-policy"));
      expect(csp.get("default-src")).toEqual(["'self'"]);
      // The app's own scripts and this response's nonce; nothing inline without it, no eval in production.
      const scriptSrc = csp.get("script-src")!;
      expect(scriptSrc.slice(0, 1)).toEqual(["'self'"]);
      expect(scriptSrc).toHaveLength(2);
      const nonce = /^'nonce-([A-Za-z0-9+/]{22}==)'$/.exec(scriptSrc[1]!)?.[1];
      expect(nonce).toBeDefined();
      nonces.add(nonce!);
      expect(csp.get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
      expect(csp.get("img-src")).toEqual(["'self'", "data:", "blob:"]);
      expect(csp.get("connect-src")).toEqual(["'self'", "ws://app.test"]);
      expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
      expect(csp.get("object-src")).toEqual(["'none'"]);
      await response.body?.cancel();
    }
    // A fresh nonce for every response.
    expect(nonces.size).toBe(responses.length);
  });

  it("go with a refusal of cross-site form posts to mutations, whatever the content type or a null Origin", async () => {
    const { senderId, conversation } = await conversationPair();
    const cookie = await t.sessionCookie(senderId);
    const url = `${t.baseUrl}/api/trpc/messages.send`;
    const json = JSON.stringify({ json: { conversationId: conversation.id, content: "forged", clientMessageId: "forged" } });
    // What an HTML form on another site can send without a preflight, with the victim's cookie.
    const attempts: [string, string, string][] = [
      ["https://evil.example", "application/x-www-form-urlencoded", `payload=${encodeURIComponent(json)}`],
      ["https://evil.example", "text/plain", json],
      ["https://evil.example", "application/json", json],
      // Sandboxed frames and some redirects send "null".
      ["null", "text/plain", json],
    ];
    for (const [origin, contentType, body] of attempts) {
      const response = await fetch(url, { method: "POST", headers: { origin, cookie, "content-type": contentType }, body });
      expect(response.status, `${origin} ${contentType}`).toBe(403);
      expect(response.headers.get("x-frame-options")).toBe("DENY");
    }
    expect(await t.server.database.prisma.message.count({ where: { conversationId: conversation.id } })).toBe(0);
    // The same call from the app's own origin goes through: the Origin is what was refused.
    const own = await fetch(url, { method: "POST", headers: { origin: TEST_APP_ORIGIN, cookie, "content-type": "application/json" }, body: json });
    expect(own.status).toBe(200);
    expect(await t.server.database.prisma.message.count({ where: { conversationId: conversation.id } })).toBe(1);
  });
});
