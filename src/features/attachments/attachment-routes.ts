import { Readable } from "node:stream";
import type { ReadableStream as NodeWebStream } from "node:stream/web";
import { z } from "zod";
import type { SessionUser } from "~/features/auth/contracts";
import { PERMISSIONS } from "~/features/permissions/catalog";
import { requireMessagingEnabled } from "~/features/settings/settings.service";
import { signedInUser } from "~/server/auth-session";
import { db, type Db } from "~/server/db/client";
import { DomainError, type DomainErrorCode } from "~/server/errors";
import { logger } from "~/server/logger";
import { isOriginAllowed } from "~/server/http/origin";
import { FILE_CONTENT_SECURITY_POLICY } from "~/server/http/security-headers";
import { openAttachment, removeUnsentUpload } from "./attachments.service";
import { isInlineImage, uploadQuerySchema, type UploadErrorCode } from "./contracts";
import { attachmentRuntime } from "./runtime";
import type { AttachmentStorage } from "./storage/attachment-storage";
import { receiveUpload, UploadRefusal } from "./upload";

// The HTTP side of attachments, as Web Request -> Response handlers: the Next.js
// route handlers under src/app/api/attachments call them, and the integration
// tests call them directly. Upload bodies are streamed into the storage; files
// are streamed out with headers that keep them from ever running in our origin.

export interface AttachmentRouteDeps {
  prisma: Db;
  storage: AttachmentStorage;
  allowedOrigins: readonly string[];
}

/** The running server's deps (its database and storage); the route handlers call this. */
export function attachmentRouteDeps(): AttachmentRouteDeps {
  const runtime = attachmentRuntime();
  if (!runtime) throw new Error("Attachments are not configured: server.ts configures them before serving.");
  return { prisma: db(), ...runtime };
}

const attachmentIdSchema = z.uuid();

const STATUS: Record<UploadErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
};

const FROM_DOMAIN: Partial<Record<DomainErrorCode, UploadErrorCode>> = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
};

function refusal(code: UploadErrorCode, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error: { code, message } }, { status: STATUS[code], headers: { "cache-control": "no-store", ...headers } });
}

/** A refusal for what went wrong, or a 500 for a fault of ours (logged, not shown). */
function errorResponse(error: unknown): Response {
  if (error instanceof UploadRefusal) return refusal(error.code, error.message);
  if (error instanceof DomainError) {
    const code = FROM_DOMAIN[error.code] ?? "BAD_REQUEST";
    const retry = error.details?.retryAfterMs;
    return refusal(code, error.message, retry ? { "retry-after": String(Math.ceil(retry / 1000)) } : {});
  }
  logger.error({ err: error }, "attachment request failed");
  return Response.json({ error: { code: "INTERNAL", message: "Something went wrong on our side. Try again." } }, { status: 500 });
}

async function signedInMember(request: Request, prisma: Db): Promise<SessionUser> {
  const user = await signedInUser({ headers: { cookie: request.headers.get("cookie") ?? undefined } }, prisma, PERMISSIONS.messagingAccess);
  if (user === 401) throw new DomainError("UNAUTHORIZED", "Sign in to use files.");
  if (user === 403) throw new DomainError("FORBIDDEN", "You do not have access to messaging.");
  return user;
}

function sameOrigin(request: Request, deps: AttachmentRouteDeps): boolean {
  return isOriginAllowed({ headers: { origin: request.headers.get("origin") ?? undefined } }, deps.allowedOrigins);
}

/** POST /api/attachments?conversationId=&name= with the file as the body. */
export async function handleUpload(request: Request, deps: AttachmentRouteDeps): Promise<Response> {
  try {
    if (!sameOrigin(request, deps)) return refusal("FORBIDDEN", "Cross-site uploads are not allowed.");
    const user = await signedInMember(request, deps.prisma);
    const query = uploadQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!query.success) return refusal("BAD_REQUEST", query.error.issues[0]?.message ?? "That upload is not valid.");
    if (!request.body) return refusal("BAD_REQUEST", "The upload has no file.");
    if (request.signal.aborted) return refusal("BAD_REQUEST", "The upload was cancelled.");
    const length = request.headers.get("content-length");
    const body = Readable.fromWeb(request.body as unknown as NodeWebStream<Uint8Array>);
    // A client that goes away mid-upload fails the stream, so nothing is kept.
    const abandoned = () => body.destroy(new UploadRefusal("BAD_REQUEST", "The upload was cancelled."));
    request.signal.addEventListener("abort", abandoned, { once: true });
    try {
      const attachment = await receiveUpload(deps, user, {
        conversationId: query.data.conversationId,
        name: query.data.name,
        contentLength: length !== null && /^\d+$/.test(length) ? Number(length) : null,
        body,
      });
      return Response.json({ attachment }, { status: 201, headers: { "cache-control": "no-store" } });
    } finally {
      request.signal.removeEventListener("abort", abandoned);
    }
  } catch (error) {
    return errorResponse(error);
  }
}

/** `attachment; filename="..."` with an ASCII fallback and the exact name in RFC 5987 form. */
export function contentDisposition(kind: "inline" | "attachment", name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/** GET /api/attachments/<id>[?inline=1] and /api/attachments/<id>/thumbnail. */
export async function handleDownload(
  request: Request,
  deps: AttachmentRouteDeps,
  attachmentId: string,
  variant: "file" | "thumbnail",
): Promise<Response> {
  try {
    if (!attachmentIdSchema.safeParse(attachmentId).success) return refusal("NOT_FOUND", "That file does not exist.");
    const user = await signedInMember(request, deps.prisma);
    await requireMessagingEnabled(deps.prisma);
    const { attachment, object } = await openAttachment(deps, user, attachmentId, variant);
    const etag = `"${attachment.id}${variant === "thumbnail" ? "-t" : ""}"`;
    const inline = variant === "thumbnail" || (new URL(request.url).searchParams.get("inline") === "1" && isInlineImage(attachment));
    // Never run in our origin: the sniffed type, no guessing another (nosniff), and the files' policy.
    const headers: Record<string, string> = {
      "content-type": variant === "thumbnail" ? "image/webp" : attachment.contentType,
      "content-disposition": contentDisposition(inline ? "inline" : "attachment", variant === "thumbnail" ? `${attachment.name}.webp` : attachment.name),
      "x-content-type-options": "nosniff",
      "content-security-policy": FILE_CONTENT_SECURITY_POLICY,
      "cross-origin-resource-policy": "same-origin",
      // Access is checked on every request: the browser revalidates (a 304 after the check) instead of reusing.
      "cache-control": "private, no-cache",
      etag,
    };
    if (request.headers.get("if-none-match") === etag) {
      object.body.destroy();
      return new Response(null, { status: 304, headers });
    }
    headers["content-length"] = String(object.size);
    return new Response(Readable.toWeb(object.body) as unknown as ReadableStream<Uint8Array>, { status: 200, headers });
  } catch (error) {
    return errorResponse(error);
  }
}

/** DELETE /api/attachments/<id>: the uploader takes back a file not sent yet. */
export async function handleDiscard(request: Request, deps: AttachmentRouteDeps, attachmentId: string): Promise<Response> {
  try {
    if (!sameOrigin(request, deps)) return refusal("FORBIDDEN", "Cross-site requests are not allowed.");
    if (!attachmentIdSchema.safeParse(attachmentId).success) return refusal("NOT_FOUND", "That file does not exist.");
    const user = await signedInMember(request, deps.prisma);
    await removeUnsentUpload(deps, user, attachmentId);
    return new Response(null, { status: 204 });
  } catch (error) {
    return errorResponse(error);
  }
}
