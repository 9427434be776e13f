import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, TEST_AUTH_SECRET, type TestServer } from "../helpers/test-server";

// With METRICS_TOKEN set, /api/metrics wants it as a bearer token, from anywhere
// (a server of its own: the token is read at start). In production without a
// token, nobody gets them, loopback included.

const token = "metrics-token-0123456789abcdef";
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ RETENTION_INTERVAL_MS: "0", METRICS_TOKEN: token });
});
afterAll(async () => {
  await t?.close();
});

it("answers only with the bearer token, through a proxy too", async () => {
  const at = (headers: Record<string, string>) => fetch(`${t.baseUrl}/api/metrics`, { headers });
  const missing = await at({});
  expect(missing.status).toBe(401);
  expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
  expect((await at({ authorization: "Bearer wrong-token-0123456789" })).status).toBe(401);
  const ok = await at({ authorization: `Bearer ${token}`, "x-forwarded-for": "203.0.113.9" });
  expect(ok.status).toBe(200);
  expect(await ok.text()).toContain("chatline_messages_sent_total");
});

it("in production, without a token, are refused to loopback callers too", async () => {
  const production = await startTestServer({ RETENTION_INTERVAL_MS: "0", NODE_ENV: "production", NEXTAUTH_SECRET: TEST_AUTH_SECRET });
  try {
    const response = await fetch(`${production.baseUrl}/api/metrics`);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: "Metrics need METRICS_TOKEN in production." });
  } finally {
    await production.close();
  }
});
