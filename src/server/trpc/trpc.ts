import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError, z } from "zod";
import { loadSessionUser } from "~/features/auth/auth.service";
import type { PermissionKey } from "~/features/permissions/catalog";
import { accessGeneration } from "~/features/roles/access-changes";
import { DomainError } from "~/server/errors";
import { getMessagingLimits } from "~/features/settings/settings.service";
import { chargeUserCall, retryIn, takeSocketCall, type UserCallKind } from "~/server/rate-limits";
import type { Context } from "./context";
import { serverTransformer } from "./transformer";

// The only place procedures are built from. Routers import the base procedures
// below; each is made of named middlewares.

const t = initTRPC.context<Context>().create({
  transformer: serverTransformer,
  // Subscriptions go over the WebSocket only, where Origin, frame size and
  // reconnect-on-shutdown are enforced; HTTP event streams would bypass all three.
  sse: { enabled: false },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
      data: {
        ...shape.data,
        // Field errors for forms; the message already says what is wrong.
        zodError: cause instanceof ZodError ? z.flattenError(cause) : null,
        retryAfterMs: cause instanceof DomainError ? (cause.details?.retryAfterMs ?? null) : null,
      },
    };
  },
});

export const router = t.router;

/** Domain errors from services become typed tRPC errors with the service's message. */
const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: cause.code, message: cause.message, cause });
  }
  return result;
});

/** Unexpected errors are logged with the request id; the client sees a generic message. */
const logErrors = t.middleware(async ({ ctx, path, type, next }) => {
  const result = await next();
  if (!result.ok && result.error.code === "INTERNAL_SERVER_ERROR") {
    ctx.log.error({ err: result.error.cause ?? result.error, path, type }, "procedure failed");
  }
  return result;
});

/**
 * Every call over a WebSocket (subscriptions included) counts against its
 * connection's budget (SOCKET_MESSAGES_PER_MINUTE), before input parsing and the
 * user's look-up, so a refused call costs no query. HTTP calls are not counted here.
 */
const socketBudget = t.middleware(async ({ ctx, next }) => {
  if (ctx.transport === "ws") {
    const retryAfterMs = await takeSocketCall(ctx.connectionId);
    if (retryAfterMs > 0) {
      throw new DomainError("TOO_MANY_REQUESTS", `Too many requests on this connection. Try again in ${retryIn(retryAfterMs)}.`, {
        retryAfterMs,
      });
    }
  }
  return next();
});

export const publicProcedure = t.procedure.use(logErrors).use(domainErrors).use(socketBudget);

/**
 * A subscription's generator runs after the middlewares have returned, so its
 * domain errors are mapped here, as they are for queries and mutations.
 */
export async function* mapDomainErrors<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* source;
  } catch (error) {
    if (error instanceof DomainError) throw new TRPCError({ code: error.code, message: error.message, cause: error });
    throw error;
  }
}

/** How long a WebSocket connection may reuse the user (roles, disabled flag) it loaded. */
const SOCKET_USER_TTL_MS = 60_000;

/**
 * Loads the signed-in user. Over WebSocket the context lives as long as the
 * connection, so the user is kept on it for a minute, or until roles or
 * permissions change anywhere (see access-changes.ts); the cookie's expiry is
 * checked on every call.
 */
const authed = t.middleware(async ({ ctx, next }) => {
  if (!ctx.session) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  if (ctx.session.expiresAt && ctx.session.expiresAt.getTime() <= Date.now()) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "Your session has ended. Sign in again." });
  }
  const cache = ctx.userCache;
  const generation = accessGeneration();
  if (
    ctx.transport === "http" ||
    cache.loadedAt === undefined ||
    cache.generation !== generation ||
    Date.now() - cache.loadedAt > SOCKET_USER_TTL_MS
  ) {
    cache.user = await loadSessionUser(ctx.prisma, ctx.session.userId);
    cache.loadedAt = Date.now();
    cache.generation = generation;
  }
  const user = cache.user;
  if (!user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Your session has ended. Sign in again." });
  return next({ ctx: { ...ctx, session: ctx.session, user } });
});

export const authedProcedure = publicProcedure.use(authed);

/** A signed-in user holding `permission` (through any of their roles). */
export function permissionProcedure(permission: PermissionKey) {
  return authedProcedure.use(({ ctx, next }) => {
    if (!ctx.user.permissions.includes(permission)) {
      throw new TRPCError({ code: "FORBIDDEN", message: `You need the "${permission}" permission for this.` });
    }
    return next();
  });
}


/**
 * Counts the call against the caller's budget for `kind`: a multiple of the
 * settings' rateLimitPerMinute with a floor (USER_CALL_BUDGETS), shared by every instance when
 * Redis is configured. Use after a procedure that signs in (the user is the key).
 */
export function userCallBudget(kind: UserCallKind) {
  return t.middleware(async ({ ctx, next }) => {
    const userId = ctx.session?.userId;
    if (userId) {
      const { rateLimitPerMinute } = await getMessagingLimits(ctx.prisma);
      await chargeUserCall(kind, userId, rateLimitPerMinute);
    }
    return next();
  });
}
