import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userCallBudget } from "~/server/rate-limits";
import type { NodeTrpcClient } from "~/trpc/node-client";
import { codeOf, errorOf } from "../helpers/error-code";
import { restoreSettingsAfterEach } from "../helpers/settings-snapshot";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// Every call a member makes besides message writes has a budget per user, a
// multiple of the settings' rateLimitPerMinute with a floor (USER_CALL_BUDGETS).
// The message writes themselves: abuse-limits.test.ts.

let t: TestServer;
let admin: NodeTrpcClient;

beforeAll(async () => {
  t = await startTestServer();
  const ada = await t.createUser({ name: "Ada", roles: ["User", "Admin"] });
  admin = await t.client({ userId: ada.id, origin: TEST_APP_ORIGIN });
});
afterAll(async () => {
  await t?.close();
});
restoreSettingsAfterEach(() => t);

async function member(name: string) {
  const user = await t.createUser({ name });
  return { user, api: (await t.client({ userId: user.id, origin: TEST_APP_ORIGIN })).api };
}

describe("per-user call budgets", () => {
  it("follow the send limit, with a floor", () => {
    expect(userCallBudget("conversationChange", 60)).toBe(60);
    expect(userCallBudget("conversationChange", 2)).toBe(10);
    expect(userCallBudget("search", 60)).toBe(120);
    expect(userCallBudget("read", 60)).toBe(1200);
    expect(userCallBudget("read", 1)).toBe(1200);
    expect(userCallBudget("read", 100)).toBe(2000);
  });

  it("conversation changes: per user, refused with when to retry, lifted at once when the limit is raised", async () => {
    await admin.api.settings.update.mutate({ rateLimitPerMinute: 1 });
    const budget = userCallBudget("conversationChange", 1);
    const ana = await member("Ana");
    const others = await Promise.all(Array.from({ length: budget + 1 }, (_, i) => t.createUser({ name: `Other ${i}` })));
    await ana.api.conversations.createGroup.mutate({ name: "Group", participantIds: [others[0]!.id] });
    for (const other of others.slice(1, budget)) await ana.api.conversations.createDirect.mutate({ recipientId: other.id });
    const refused = await errorOf(ana.api.conversations.createDirect.mutate({ recipientId: others[budget]!.id }));
    expect(refused.data.code).toBe("TOO_MANY_REQUESTS");
    expect(refused.message).toMatch(/^You are changing conversations too fast\. Try again in \d+ s\.$/);
    expect(refused.data.retryAfterMs).toBeGreaterThan(0);
    // Nothing was made by the refused call.
    expect(await t.server.database.prisma.conversationParticipant.count({ where: { userId: ana.user.id } })).toBe(budget);

    // Someone else has a budget of their own.
    const ben = await member("Ben");
    await ben.api.conversations.createDirect.mutate({ recipientId: others[budget]!.id });

    await admin.api.settings.update.mutate({ rateLimitPerMinute: 60 });
    await ana.api.conversations.createDirect.mutate({ recipientId: others[budget]!.id });
  });

  it("searches: people and conversations share one budget", async () => {
    await admin.api.settings.update.mutate({ rateLimitPerMinute: 1 });
    const ana = await member("Searcher");
    for (let i = 0; i < userCallBudget("search", 1); i += 1) {
      await (i % 2 ? ana.api.users.search.query({ query: "an" }) : ana.api.conversations.search.query({ query: "an" }));
    }
    expect(await codeOf(ana.api.users.search.query({ query: "an" }))).toBe("TOO_MANY_REQUESTS");
    expect(await codeOf(ana.api.conversations.search.query({ query: "an" }))).toBe("TOO_MANY_REQUESTS");
    // Reads have their own, larger budget.
    await ana.api.conversations.list.query({});
  });

  it("typing counts too: a script reporting typing in a loop is stopped", async () => {
    await admin.api.settings.update.mutate({ rateLimitPerMinute: 1 });
    const ana = await member("Typist");
    const ben = await t.createUser({ name: "Listener" });
    const conversation = await ana.api.conversations.createDirect.mutate({ recipientId: ben.id });
    const outcomes: (string | undefined)[] = [];
    const budget = userCallBudget("typing", 1);
    for (let i = 0; i <= budget; i += 1) {
      outcomes.push(await codeOf(ana.api.messages.typing.mutate({ conversationId: conversation.id, isTyping: i % 2 === 0 })));
    }
    expect(outcomes.slice(0, budget).every((code) => code === "allowed")).toBe(true);
    expect(outcomes.at(-1)).toBe("TOO_MANY_REQUESTS");
  });

  it("deletions: a script deleting random ids in a loop is stopped", async () => {
    await admin.api.settings.update.mutate({ rateLimitPerMinute: 1 });
    const ana = await member("Deleter");
    const budget = userCallBudget("messageDelete", 1);
    const outcomes: (string | undefined)[] = [];
    for (let i = 0; i <= budget; i += 1) outcomes.push(await codeOf(ana.api.messages.delete.mutate({ messageId: randomUUID() })));
    expect(new Set(outcomes.slice(0, budget))).toEqual(new Set(["NOT_FOUND"]));
    expect(outcomes.at(-1)).toBe("TOO_MANY_REQUESTS");
  });
});
