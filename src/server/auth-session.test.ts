import { encode } from "next-auth/jwt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseCookieHeader, readSession } from "./auth-session";

const SECRET = "unit-test-secret-with-enough-length-0123456789";

describe("parseCookieHeader", () => {
  it("reads names and decoded values, first one wins", () => {
    expect(parseCookieHeader("a=1; b=hello%20world; a=2; c=\"quoted\"; broken; =x")).toEqual({
      a: "1",
      b: "hello world",
      c: "quoted",
    });
    expect(parseCookieHeader(undefined)).toEqual({});
    expect(parseCookieHeader("bad=%E0%A4%A")).toEqual({ bad: "%E0%A4%A" });
  });
});

describe("readSession", () => {
  beforeEach(() => {
    process.env.NEXTAUTH_SECRET = SECRET;
    delete process.env.NEXTAUTH_URL;
  });
  afterEach(() => {
    delete process.env.NEXTAUTH_SECRET;
  });

  it("decodes a next-auth session cookie without any HTTP call", async () => {
    const token = await encode({ token: { sub: "7c4d1f0e-0000-4000-8000-000000000001" }, secret: SECRET });
    const session = await readSession({ headers: { cookie: `other=1; next-auth.session-token=${token}` } });
    expect(session?.userId).toBe("7c4d1f0e-0000-4000-8000-000000000001");
    expect(session?.expiresAt?.getTime()).toBeGreaterThan(Date.now());
  });

  it("returns no session, never throws, for missing, forged or foreign cookies", async () => {
    const foreign = await encode({ token: { sub: "someone" }, secret: "another-secret-of-sufficient-length-000000" });
    expect(await readSession({ headers: {} })).toBeNull();
    expect(await readSession({ headers: { cookie: "next-auth.session-token=garbage" } })).toBeNull();
    expect(await readSession({ headers: { cookie: `next-auth.session-token=${foreign}` } })).toBeNull();
  });

  it("returns no session for an expired token", async () => {
    const expired = await encode({ token: { sub: "someone" }, secret: SECRET, maxAge: -120 });
    expect(await readSession({ headers: { cookie: `next-auth.session-token=${expired}` } })).toBeNull();
  });
});
