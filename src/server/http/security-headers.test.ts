import type { IncomingMessage, ServerResponse } from "node:http";
import { getScriptNonceFromHeaders } from "next/dist/server/app-render/get-script-nonce-from-header";
import { describe, expect, it } from "vitest";
import { parseEnv } from "~/server/env";
import { contentSecurityPolicyTemplate, FILE_CONTENT_SECURITY_POLICY, NONCE_HEADER, oauthImageHosts, securityHeaders, staticSecurityHeaders } from "./security-headers";

function fakeExchange(headers: Record<string, string> = {}) {
  const req = { headers: { ...headers } } as unknown as IncomingMessage;
  const sent = new Map<string, string>();
  const res = { setHeader: (name: string, value: string) => sent.set(name.toLowerCase(), value) } as unknown as ServerResponse;
  return { req, res, sent };
}

describe("security headers", () => {
  const local = parseEnv({});

  it("hands Next.js the nonce it puts on its scripts, the one the response allows, fresh per request", () => {
    const apply = securityHeaders({ appUrl: local.APP_URL, allowedOrigins: local.allowedOrigins, dev: false });
    // A client cannot choose the nonce: what it sent is replaced.
    const first = fakeExchange({ "content-security-policy": "script-src 'nonce-chosen'", [NONCE_HEADER]: "chosen", "content-security-policy-report-only": "x" });
    apply(first.req, first.res);
    const nonce = first.req.headers[NONCE_HEADER] as string;
    expect(nonce).not.toBe("chosen");
    // Next.js' own parser finds it in the request (that is how its scripts get it).
    expect(getScriptNonceFromHeaders(first.req.headers)).toBe(nonce);
    expect(first.sent.get("content-security-policy")).toBe(first.req.headers["content-security-policy"]);
    expect(first.sent.get("content-security-policy")).toContain(`script-src 'self' 'nonce-${nonce}';`);
    expect(first.req.headers["content-security-policy-report-only"]).toBeUndefined();

    const second = fakeExchange();
    apply(second.req, second.res);
    expect(second.req.headers[NONCE_HEADER]).not.toBe(nonce);
  });

  it("lets a local app open its socket on every loopback name CSP can express", () => {
    const policy = contentSecurityPolicyTemplate({ appUrl: local.APP_URL, allowedOrigins: local.allowedOrigins, dev: false });
    expect(policy).toContain("connect-src 'self' ws://localhost:3000 ws://127.0.0.1:3000;");
    expect(policy).not.toContain("[::1]");
    expect(policy).not.toContain("unsafe-eval");
    expect(policy).not.toMatch(/script-src[^;]*unsafe-inline/);
  });

  it("is looser in development only where React refresh needs it", () => {
    const policy = contentSecurityPolicyTemplate({ appUrl: local.APP_URL, allowedOrigins: local.allowedOrigins, dev: true });
    expect(policy).toMatch(/script-src 'self' 'nonce-\{nonce\}' 'unsafe-eval';/);
  });

  it("adds HSTS and upgrade-insecure-requests for an https APP_URL, and the OAuth picture hosts that are on", () => {
    const env = parseEnv({ APP_URL: "https://chat.example.com", GITHUB_ID: "id", GITHUB_SECRET: "secret" });
    const policy = contentSecurityPolicyTemplate({ appUrl: env.APP_URL, allowedOrigins: env.allowedOrigins, dev: false, imageHosts: oauthImageHosts(env) });
    expect(policy).toContain("connect-src 'self' wss://chat.example.com;");
    expect(policy).toContain("img-src 'self' data: blob: https://avatars.githubusercontent.com;");
    expect(policy).toMatch(/; upgrade-insecure-requests$/);
    expect(new Map(staticSecurityHeaders({ appUrl: env.APP_URL })).get("Strict-Transport-Security")).toBe("max-age=31536000");
    expect(new Map(staticSecurityHeaders({ appUrl: local.APP_URL })).has("Strict-Transport-Security")).toBe(false);
  });

  it("gives uploaded files the sandboxed policy, whatever Next.js does with the route's own headers", () => {
    const apply = securityHeaders({ appUrl: local.APP_URL, allowedOrigins: local.allowedOrigins, dev: false });
    const file = fakeExchange();
    (file.req as { url?: string }).url = "/api/attachments/0b7c4c2e-3f43-4a53-9a43-6b2a8a2f6e11?inline=1";
    apply(file.req, file.res);
    expect(file.sent.get("content-security-policy")).toBe(FILE_CONTENT_SECURITY_POLICY);
    expect(FILE_CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'.*sandbox/);
    expect(file.sent.get("x-content-type-options")).toBe("nosniff");
    // The upload itself (POST /api/attachments) and pages keep the page policy.
    const page = fakeExchange();
    (page.req as { url?: string }).url = "/api/attachments?conversationId=x";
    apply(page.req, page.res);
    expect(page.sent.get("content-security-policy")).toContain("script-src 'self' 'nonce-");
  });
});
