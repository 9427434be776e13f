import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ATTACHMENTS_PATH } from "~/features/attachments/contracts";

// Security headers on every response of the app server: pages, tRPC, health and
// the rest. Scripts run only from our origin or with this request's nonce (no
// 'unsafe-inline'): a fresh nonce per request goes into the request's own
// Content-Security-Policy header, where Next.js looks for it (as it does behind a
// proxy/middleware that sets one) and puts it on every script it renders, and into
// `x-nonce`, which the root layout reads for the theme script. Styles may be
// inline (Next, Tailwind, Radix and sonner set style attributes and tags).

/**
 * Uploaded files (everything under ATTACHMENTS_PATH/) never run in our origin:
 * this policy allows nothing but showing an image, in a sandbox (no script, no
 * same-origin access) even when a file is opened on its own. It replaces the
 * page policy for those paths here, because Next.js keeps a header the server
 * set before it over the one a route handler returns.
 */
export const FILE_CONTENT_SECURITY_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'";

function servesUploadedFiles(url: string | undefined): boolean {
  return (url ?? "").startsWith(`${ATTACHMENTS_PATH}/`);
}

/** The request header the root layout reads the nonce from. */
export const NONCE_HEADER = "x-nonce";

export interface SecurityHeaderOptions {
  /** The public origin (APP_URL): HSTS and upgrade-insecure-requests when it is https. */
  appUrl: string;
  /** Origins the page may be served from (APP_URL, loopback names, ALLOWED_ORIGINS): their WebSocket form may be opened. */
  allowedOrigins: readonly string[];
  /** Development: React refresh and Next's dev tools evaluate code. */
  dev: boolean;
  /** Where profile pictures of OAuth accounts come from (GitHub, Google), when those sign-ins are on. */
  imageHosts?: readonly string[];
}

const NONCE_SLOT = "{nonce}";

/** The policy with `{nonce}` where each request's nonce goes. */
export function contentSecurityPolicyTemplate(options: SecurityHeaderOptions): string {
  const https = new URL(options.appUrl).protocol === "https:";
  // CSP host sources have no syntax for IPv6 literals; 'self' covers the page's own host.
  const sockets = options.allowedOrigins.filter((origin) => !new URL(origin).hostname.startsWith("[")).map((origin) => origin.replace(/^http/, "ws"));
  const directives: [string, ...string[]][] = [
    ["default-src", "'self'"],
    ["script-src", "'self'", `'nonce-${NONCE_SLOT}'`, ...(options.dev ? ["'unsafe-eval'"] : [])],
    ["style-src", "'self'", "'unsafe-inline'"],
    ["img-src", "'self'", "data:", "blob:", ...(options.imageHosts ?? [])],
    ["font-src", "'self'", "data:"],
    ["connect-src", "'self'", ...new Set(sockets)],
    ["object-src", "'none'"],
    ["base-uri", "'self'"],
    ["form-action", "'self'"],
    ["frame-ancestors", "'none'"],
    ...(https ? [["upgrade-insecure-requests"] as [string]] : []),
  ];
  return directives.map((directive) => directive.join(" ")).join("; ");
}

/** The headers that do not change per request. */
export function staticSecurityHeaders(options: Pick<SecurityHeaderOptions, "appUrl">): [string, string][] {
  const headers: [string, string][] = [
    ["X-Content-Type-Options", "nosniff"],
    ["Referrer-Policy", "strict-origin-when-cross-origin"],
    ["X-Frame-Options", "DENY"],
    // Notifications are a browser permission, not a Permissions-Policy feature: they keep working.
    ["Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()"],
    ["Cross-Origin-Opener-Policy", "same-origin"],
  ];
  if (new URL(options.appUrl).protocol === "https:") headers.push(["Strict-Transport-Security", "max-age=31536000"]);
  return headers;
}

/** A fresh nonce: 128 random bits, base64 (the characters Next.js accepts in a nonce). */
export function createNonce(): string {
  return randomBytes(16).toString("base64");
}

/**
 * Returns what the server calls first for every request: it sets the response's
 * security headers and hands Next.js this request's nonce. A nonce or policy the
 * client sent is replaced, so no client chooses the nonce its page is rendered with.
 */
export function securityHeaders(options: SecurityHeaderOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const template = contentSecurityPolicyTemplate(options);
  const fixed = staticSecurityHeaders(options);
  return (req, res) => {
    if (servesUploadedFiles(req.url)) {
      res.setHeader("Content-Security-Policy", FILE_CONTENT_SECURITY_POLICY);
      for (const [name, value] of fixed) res.setHeader(name, value);
      return;
    }
    const nonce = createNonce();
    const policy = template.replace(NONCE_SLOT, nonce);
    req.headers["content-security-policy"] = policy;
    delete req.headers["content-security-policy-report-only"];
    req.headers[NONCE_HEADER] = nonce;
    res.setHeader("Content-Security-Policy", policy);
    for (const [name, value] of fixed) res.setHeader(name, value);
  };
}

/** The OAuth providers' picture hosts for the sign-ins that are on. */
export function oauthImageHosts(env: { GITHUB_ID?: string; GOOGLE_CLIENT_ID?: string }): string[] {
  return [
    ...(env.GITHUB_ID ? ["https://avatars.githubusercontent.com"] : []),
    ...(env.GOOGLE_CLIENT_ID ? ["https://*.googleusercontent.com"] : []),
  ];
}
