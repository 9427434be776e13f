import { env } from "~/server/env";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  resetAuthRateLimits,
  SIGN_IN_ATTEMPTS_PER_ACCOUNT,
  takeSignUpAttempt,
} from "~/features/auth/auth-rate-limits";
import { verifyCredentials } from "~/features/auth/auth.service";
import { INVALID_CREDENTIALS_MESSAGE, SIGN_IN_THROTTLED_MESSAGE, SIGN_UP_THROTTLED_MESSAGE } from "~/features/auth/contracts";
import { DomainError } from "~/server/errors";
import { errorOf } from "../helpers/error-code";
import { randomTestAddress, startTestServer, uniqueEmail, type TestServer } from "../helpers/test-server";

// Emails and addresses are unique per run: with REDIS_URL the limits live in a
// Redis shared with other runs.

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});
beforeEach(() => {
  resetAuthRateLimits();
});

async function domainFailureOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

const origin = () => ({ ip: randomTestAddress(), userAgent: "vitest" });

describe("auth.signUp over HTTP", () => {
  it("creates the account; the first one on an installation with no Super Admin becomes one", async () => {
    const prisma = t.server.database.prisma;
    await prisma.userRole.deleteMany({ where: { role: { name: "Super Admin" } } });
    const { api } = await t.client();
    const firstEmail = uniqueEmail("First");
    const first = await api.auth.signUp.mutate({ email: ` ${firstEmail.toUpperCase()} `, name: "First", password: "a good password" });
    const second = await api.auth.signUp.mutate({ email: uniqueEmail("second"), name: "Second", password: "a good password" });
    expect(first).toMatchObject({ email: firstEmail.toLowerCase(), name: "First" });

    const rolesOf = async (id: string) =>
      (await prisma.userRole.findMany({ where: { userId: id }, select: { role: { select: { name: true } } } }))
        .map(({ role }) => role.name)
        .sort();
    expect(await rolesOf(first.id)).toEqual(["Super Admin", "User"]);
    expect(await rolesOf(second.id)).toEqual(["User"]);

    const stored = await prisma.user.findUniqueOrThrow({ where: { id: first.id } });
    expect(stored.passwordHash).toMatch(/^scrypt\$/);
    expect(stored.passwordHash).not.toContain("a good password");
    const audit = await prisma.auditLog.findMany({ where: { action: "auth.signed_up", actorId: first.id } });
    expect(audit).toHaveLength(1);
  });

  it("refuses a taken email with CONFLICT and keeps the original account", async () => {
    const { api } = await t.client();
    const email = uniqueEmail("taken");
    await api.auth.signUp.mutate({ email, name: "Original", password: "a good password" });
    const error = await errorOf(api.auth.signUp.mutate({ email: email.toUpperCase(), name: "Impostor", password: "another password" }));
    expect(error.data.code).toBe("CONFLICT");
    expect(error.message).toBe("An account with this email already exists. Sign in instead.");
    const user = await t.server.database.prisma.user.findUniqueOrThrow({ where: { email } });
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

  it("limits sign-ups per address, with when to retry", async () => {
    const address = randomTestAddress();
    for (let i = 0; i < env().SIGN_UPS_PER_ADDRESS_PER_HOUR; i++) expect(await takeSignUpAttempt(address)).toBe(0);
    const { api } = await t.client({ address });
    const email = uniqueEmail("limited");
    const error = await errorOf(api.auth.signUp.mutate({ email, name: "Limited", password: "a good password" }));
    expect(error.data.code).toBe("TOO_MANY_REQUESTS");
    expect(error.message).toBe(SIGN_UP_THROTTLED_MESSAGE);
    expect(error.data.retryAfterMs).toBeGreaterThan(0);
    expect(await t.server.database.prisma.user.count({ where: { email } })).toBe(0);
    // Another address is not affected.
    const other = await t.client();
    await expect(other.api.auth.signUp.mutate({ email, name: "Elsewhere", password: "a good password" })).resolves.toMatchObject({ email });
  });

  it("lets a signed-in user read themselves, refuses anonymous and disabled ones", async () => {
    const created = await t.createUser({ name: "Reader" });
    const signedIn = await t.client({ userId: created.id });
    expect(await signedIn.api.auth.me.query()).toMatchObject({ id: created.id, name: "Reader", roles: ["User"], permissions: ["messaging:access"] });
    const anonymous = await t.client();
    expect((await errorOf(anonymous.api.auth.me.query())).data.code).toBe("UNAUTHORIZED");
    await t.server.database.prisma.user.update({ where: { id: created.id }, data: { disabledAt: new Date() } });
    expect((await errorOf(signedIn.api.auth.me.query())).data.code).toBe("UNAUTHORIZED");
  });

  it("refuses a cross-site POST to a mutation, and mutations over GET", async () => {
    const email = uniqueEmail("csrf");
    const body = JSON.stringify({ json: { email, name: "X", password: "a good password" } });
    const crossSite = await fetch(`${t.baseUrl}/api/trpc/auth.signUp`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body,
    });
    expect(crossSite.status).toBe(403);
    const overGet = await fetch(`${t.baseUrl}/api/trpc/auth.signUp?input=${encodeURIComponent(body)}`);
    expect(overGet.status).toBe(405);
    expect(await t.server.database.prisma.user.count({ where: { email } })).toBe(0);
  });
});

describe("verifyCredentials (next-auth's credentials provider)", () => {
  async function signUpUser(label: string): Promise<string> {
    const { api } = await t.client();
    const email = uniqueEmail(label);
    await api.auth.signUp.mutate({ email, name: "Sign In", password: "right password" });
    return email;
  }

  it("accepts the right password", async () => {
    const email = await signUpUser("right");
    const user = await verifyCredentials(t.server.database.prisma, { email, password: "right password" }, origin());
    expect(user.email).toBe(email);
  });

  it("gives the same answer for an unknown email and a wrong password, and audits both", async () => {
    const email = await signUpUser("known");
    const unknownEmail = uniqueEmail("nobody");
    const prisma = t.server.database.prisma;
    const from = origin();
    const wrong = await domainFailureOf(verifyCredentials(prisma, { email, password: "wrong" }, from));
    const unknown = await domainFailureOf(verifyCredentials(prisma, { email: unknownEmail, password: "wrong" }, from));
    expect([wrong.code, wrong.message]).toEqual(["UNAUTHORIZED", INVALID_CREDENTIALS_MESSAGE]);
    expect([unknown.code, unknown.message]).toEqual([wrong.code, wrong.message]);
    const audit = await prisma.auditLog.findMany({ where: { action: "auth.sign_in_failed", ip: from.ip }, select: { metadata: true } });
    expect(audit.map((row) => (row.metadata as { email: string }).email).sort()).toEqual([email, unknownEmail].sort());
  });

  it("throttles an account after 10 failures, even with the right password", async () => {
    const email = await signUpUser("victim");
    const prisma = t.server.database.prisma;
    for (let attempt = 0; attempt < SIGN_IN_ATTEMPTS_PER_ACCOUNT; attempt++) {
      await domainFailureOf(verifyCredentials(prisma, { email, password: `guess ${attempt}` }, origin()));
    }
    const throttled = await domainFailureOf(verifyCredentials(prisma, { email, password: "right password" }, origin()));
    expect(throttled.code).toBe("TOO_MANY_REQUESTS");
    expect(throttled.message).toBe(SIGN_IN_THROTTLED_MESSAGE);
    expect(throttled.details?.retryAfterMs).toBeGreaterThan(60_000);
    const bystander = await signUpUser("bystander");
    await expect(verifyCredentials(prisma, { email: bystander, password: "right password" }, origin())).resolves.toMatchObject({ email: bystander });
  });

  it("does not let parallel guesses slip past the limit", async () => {
    const email = await signUpUser("parallel");
    const prisma = t.server.database.prisma;
    const results = await Promise.all(
      Array.from({ length: 3 * SIGN_IN_ATTEMPTS_PER_ACCOUNT }, (_, i) =>
        domainFailureOf(verifyCredentials(prisma, { email, password: `guess ${i}` }, origin())),
      ),
    );
    const checked = results.filter((error) => error.code === "UNAUTHORIZED");
    expect(checked).toHaveLength(SIGN_IN_ATTEMPTS_PER_ACCOUNT);
    expect(results.filter((error) => error.code === "TOO_MANY_REQUESTS")).toHaveLength(2 * SIGN_IN_ATTEMPTS_PER_ACCOUNT);
  });

  it("a success gives the account its attempts back", async () => {
    const email = await signUpUser("forgetful");
    const prisma = t.server.database.prisma;
    for (let round = 0; round < 2; round++) {
      for (let attempt = 0; attempt < SIGN_IN_ATTEMPTS_PER_ACCOUNT - 1; attempt++) {
        await domainFailureOf(verifyCredentials(prisma, { email, password: "typo" }, origin()));
      }
      await expect(verifyCredentials(prisma, { email, password: "right password" }, origin())).resolves.toMatchObject({ email });
    }
  });

  it("refuses a disabled account with the same answer", async () => {
    const email = await signUpUser("disabled");
    const prisma = t.server.database.prisma;
    await prisma.user.update({ where: { email }, data: { disabledAt: new Date() } });
    const error = await domainFailureOf(verifyCredentials(prisma, { email, password: "right password" }, origin()));
    expect(error.message).toBe(INVALID_CREDENTIALS_MESSAGE);
  });
});

describe("the caller's address", () => {
  it("ignores a client's X-Forwarded-For when no proxy is trusted", async () => {
    const direct = await startTestServer({ TRUST_PROXY_HOPS: "0" });
    try {
      const email = uniqueEmail("spoofer");
      const response = await fetch(`${direct.baseUrl}/api/trpc/auth.signUp`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "6.6.6.6" },
        body: JSON.stringify({ json: { email, name: "Spoofer", password: "a good password" } }),
      });
      expect(response.status).toBe(200);
      const audit = await direct.server.database.prisma.auditLog.findFirstOrThrow({ where: { action: "auth.signed_up", actor: { email } } });
      expect(audit.ip).toBe("127.0.0.1");
    } finally {
      await direct.close();
    }
  });
});
