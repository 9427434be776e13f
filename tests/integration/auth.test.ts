import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { verifyCredentials } from "~/features/auth/auth.service";
import { INVALID_CREDENTIALS_MESSAGE, SIGN_IN_THROTTLED_MESSAGE } from "~/features/auth/contracts";
import { resetSignInThrottle } from "~/features/auth/sign-in-throttle";
import { DomainError } from "~/server/errors";
import { startTestServer, type TestServer } from "../helpers/test-server";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  resetSignInThrottle();
  // The Redis store outlives a test; start each case with no recorded failures.
  const { getRedis } = await import("~/server/redis");
  const redis = getRedis();
  if (redis) {
    const keys = await redis.keys("signin-fail-*");
    if (keys.length > 0) await redis.del(...keys);
  }
});

interface ClientErrorShape {
  message: string;
  data: { code: string; zodError: { fieldErrors: Record<string, string[]> } | null };
}

async function errorOf(promise: Promise<unknown>): Promise<ClientErrorShape> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return error as unknown as ClientErrorShape;
    throw error;
  }
  throw new Error("expected the call to fail");
}

const origin = { ip: "203.0.113.9", userAgent: "vitest" };

describe("auth.signUp over HTTP", () => {
  it("creates the account; the first one on an installation with no Super Admin becomes one", async () => {
    const { api } = await t.client();
    const first = await api.auth.signUp.mutate({ email: " First@Example.com ", name: "First", password: "a good password" });
    const second = await api.auth.signUp.mutate({ email: "second@example.com", name: "Second", password: "a good password" });
    expect(first).toMatchObject({ email: "first@example.com", name: "First" });

    const rolesOf = async (id: string) =>
      (await t.server.database.prisma.userRole.findMany({ where: { userId: id }, select: { role: { select: { name: true } } } }))
        .map(({ role }) => role.name)
        .sort();
    expect(await rolesOf(first.id)).toEqual(["Super Admin", "User"]);
    expect(await rolesOf(second.id)).toEqual(["User"]);

    const stored = await t.server.database.prisma.user.findUniqueOrThrow({ where: { id: first.id } });
    expect(stored.passwordHash).toMatch(/^scrypt\$/);
    expect(stored.passwordHash).not.toContain("a good password");
    const audit = await t.server.database.prisma.auditLog.findMany({ where: { action: "auth.signed_up", actorId: first.id } });
    expect(audit).toHaveLength(1);
  });

  it("refuses a taken email with CONFLICT and keeps the original account", async () => {
    const { api } = await t.client();
    await api.auth.signUp.mutate({ email: "taken@example.com", name: "Original", password: "a good password" });
    const error = await errorOf(api.auth.signUp.mutate({ email: "TAKEN@example.com", name: "Impostor", password: "another password" }));
    expect(error.data.code).toBe("CONFLICT");
    expect(error.message).toBe("An account with this email already exists. Sign in instead.");
    const user = await t.server.database.prisma.user.findUniqueOrThrow({ where: { email: "taken@example.com" } });
    expect(user.name).toBe("Original");
  });

  it("answers bad input with BAD_REQUEST and the contract's field messages", async () => {
    const { api } = await t.client();
    const error = await errorOf(api.auth.signUp.mutate({ email: "not-an-email", name: "", password: "short" }));
    expect(error.data.code).toBe("BAD_REQUEST");
    expect(error.data.zodError?.fieldErrors).toEqual({
      email: ["Enter a valid email address."],
      name: ["Enter your name."],
      password: ["Use at least 8 characters."],
    });
  });

  it("lets a signed-in user read themselves, and nobody else", async () => {
    const created = await t.createUser({ name: "Reader" });
    const signedIn = await t.client({ userId: created.id });
    expect(await signedIn.api.auth.me.query()).toMatchObject({ id: created.id, name: "Reader", roles: ["User"], permissions: ["messaging:access"] });
    const anonymous = await t.client();
    expect((await errorOf(anonymous.api.auth.me.query())).data.code).toBe("UNAUTHORIZED");
  });

  it("refuses a cross-site POST to a mutation", async () => {
    const response = await fetch(`${t.baseUrl}/api/trpc/auth.signUp`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body: JSON.stringify({ json: { email: "csrf@example.com", name: "X", password: "a good password" } }),
    });
    expect(response.status).toBe(403);
    expect(await t.server.database.prisma.user.count({ where: { email: "csrf@example.com" } })).toBe(0);
  });
});

describe("verifyCredentials (next-auth's credentials provider)", () => {
  async function signUpUser(email: string) {
    const { api } = await t.client();
    await api.auth.signUp.mutate({ email, name: "Sign In", password: "right password" });
  }

  async function failureOf(promise: Promise<unknown>): Promise<DomainError> {
    const error = await promise.then(
      () => null,
      (caught: unknown) => caught,
    );
    if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
    return error;
  }

  it("accepts the right password", async () => {
    await signUpUser("right@example.com");
    const user = await verifyCredentials(t.server.database.prisma, { email: "right@example.com", password: "right password" }, origin);
    expect(user.email).toBe("right@example.com");
  });

  it("gives the same answer for an unknown email and a wrong password, and audits both", async () => {
    await signUpUser("known@example.com");
    const prisma = t.server.database.prisma;
    const wrong = await failureOf(verifyCredentials(prisma, { email: "known@example.com", password: "wrong" }, origin));
    const unknown = await failureOf(verifyCredentials(prisma, { email: "nobody@example.com", password: "wrong" }, origin));
    expect([wrong.code, wrong.message]).toEqual(["UNAUTHORIZED", INVALID_CREDENTIALS_MESSAGE]);
    expect([unknown.code, unknown.message]).toEqual([wrong.code, wrong.message]);
    const audit = await prisma.auditLog.findMany({
      where: { action: "auth.sign_in_failed", ip: origin.ip },
      select: { metadata: true, userAgent: true },
    });
    expect(audit.map((row) => (row.metadata as { email: string }).email).sort()).toEqual(["known@example.com", "nobody@example.com"]);
  });

  it("throttles an account after 10 failures, even with the right password", async () => {
    await signUpUser("victim@example.com");
    const prisma = t.server.database.prisma;
    for (let attempt = 0; attempt < 10; attempt++) {
      await failureOf(verifyCredentials(prisma, { email: "victim@example.com", password: `guess ${attempt}` }, origin));
    }
    const throttled = await failureOf(verifyCredentials(prisma, { email: "victim@example.com", password: "right password" }, origin));
    expect(throttled.code).toBe("TOO_MANY_REQUESTS");
    expect(throttled.message).toBe(SIGN_IN_THROTTLED_MESSAGE);
    expect(throttled.details?.retryAfterMs).toBeGreaterThan(60_000);
    // Another account from another address is not affected.
    await signUpUser("bystander@example.com");
    await expect(
      verifyCredentials(prisma, { email: "bystander@example.com", password: "right password" }, { ...origin, ip: "198.51.100.1" }),
    ).resolves.toMatchObject({ email: "bystander@example.com" });
  });

  it("refuses a disabled account with the same answer", async () => {
    await signUpUser("disabled@example.com");
    const prisma = t.server.database.prisma;
    await prisma.user.update({ where: { email: "disabled@example.com" }, data: { disabledAt: new Date() } });
    const error = await failureOf(verifyCredentials(prisma, { email: "disabled@example.com", password: "right password" }, origin));
    expect(error.message).toBe(INVALID_CREDENTIALS_MESSAGE);
  });
});
