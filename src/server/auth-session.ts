import type { IncomingMessage } from "node:http";
import { getToken } from "next-auth/jwt";
import { loadSessionUser } from "~/features/auth/auth.service";
import type { SessionUser } from "~/features/auth/contracts";
import type { PermissionKey } from "~/features/permissions/catalog";
import type { Db } from "~/server/db/client";

// Reads the next-auth session cookie of an HTTP request or a WebSocket upgrade
// locally (no round trip to /api/auth/session). Never throws: a missing, expired
// or forged cookie is simply no session, and the authed middleware refuses.

export interface RequestSession {
  userId: string;
  /** When the cookie's token expires; a WebSocket outliving it is refused from then on. */
  expiresAt: Date | null;
}

export function parseCookieHeader(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? "").split(";").map((piece) => piece.trim())) {
    const separator = part.indexOf("=");
    if (separator <= 0) continue;
    const name = part.slice(0, separator).trim();
    const raw = part.slice(separator + 1).trim().replace(/^"(.*)"$/, "$1");
    try {
      cookies[name] ??= decodeURIComponent(raw);
    } catch {
      cookies[name] ??= raw;
    }
  }
  return cookies;
}

export async function readSession(req: Pick<IncomingMessage, "headers">): Promise<RequestSession | null> {
  const secret = process.env.NEXTAUTH_SECRET;
  if (!secret) return null;
  try {
    // next-auth looks the (possibly chunked) cookie up in a parsed `cookies` object.
    const request = { headers: req.headers, cookies: parseCookieHeader(req.headers.cookie) };
    const token = await getToken({
      req: request as unknown as Parameters<typeof getToken>[0]["req"],
      secret,
      secureCookie: (process.env.NEXTAUTH_URL ?? "").startsWith("https://"),
    });
    if (typeof token?.sub !== "string") return null;
    return { userId: token.sub, expiresAt: typeof token.exp === "number" ? new Date(token.exp * 1000) : null };
  } catch {
    return null;
  }
}

/**
 * For the plain HTTP routes outside tRPC (operations, attachments): the user of the
 * request's cookie, loaded as tRPC loads it, if the session is live and the account
 * enabled (401 otherwise) and they hold `permission` (403 otherwise).
 */
export async function signedInUser(
  req: Pick<IncomingMessage, "headers">,
  prisma: Db,
  permission: PermissionKey,
): Promise<SessionUser | 401 | 403> {
  const session = await readSession(req);
  if (!session || (session.expiresAt && session.expiresAt.getTime() <= Date.now())) return 401;
  const user = await loadSessionUser(prisma, session.userId);
  if (!user) return 401;
  return user.permissions.includes(permission) ? user : 403;
}
