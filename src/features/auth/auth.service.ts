import { recordAudit } from "~/features/audit/audit.service";
import { ROLES, type PermissionKey, type RoleName } from "~/features/permissions/catalog";
import { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";
import { DomainError } from "~/server/errors";
import {
  INVALID_CREDENTIALS_MESSAGE,
  SIGN_IN_THROTTLED_MESSAGE,
  SIGN_UP_THROTTLED_MESSAGE,
  type SessionUser,
  type SignInInput,
  type SignUpInput,
  type SignUpOutput,
} from "./contracts";
import { hashPassword, verifyAgainstDummy, verifyPassword } from "./password";
import { refundSignInAttempt, takeSignInAttempt, takeSignUpAttempt } from "./auth-rate-limits";

export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

/** Serializes "is there an admin yet?" so two first sign-ups cannot both become admin. */
const FIRST_ADMIN_LOCK = 7_310_001;

async function grantRoles(tx: Prisma.TransactionClient, userId: string, roles: RoleName[]) {
  const rows = await tx.role.findMany({ where: { name: { in: roles } }, select: { id: true } });
  await tx.userRole.createMany({ data: rows.map((role) => ({ userId, roleId: role.id })), skipDuplicates: true });
}

/**
 * Creates an account with the User role. On an installation with no Super Admin
 * yet (a production database started without ADMIN_EMAIL), the first person to
 * sign up becomes one.
 */
export async function signUp(prisma: Db, input: SignUpInput, origin: RequestOrigin): Promise<SignUpOutput> {
  const retryAfterMs = await takeSignUpAttempt(origin.ip);
  if (retryAfterMs > 0) {
    throw new DomainError("TOO_MANY_REQUESTS", SIGN_UP_THROTTLED_MESSAGE, { retryAfterMs });
  }
  const passwordHash = await hashPassword(input.password);
  try {
    const user = await prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${FIRST_ADMIN_LOCK})`;
      const created = await tx.user.create({
        data: { email: input.email, name: input.name, passwordHash },
        select: { id: true, email: true, name: true },
      });
      const hasSuperAdmin = await tx.userRole.findFirst({ where: { role: { name: ROLES.superAdmin } } });
      await grantRoles(tx, created.id, hasSuperAdmin ? [ROLES.user] : [ROLES.user, ROLES.superAdmin]);
      return created;
    });
    await recordAudit(prisma, { actorId: user.id, action: "auth.signed_up", targetType: "user", targetId: user.id, ...origin });
    return user;
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      throw new DomainError("CONFLICT", "An account with this email already exists. Sign in instead.");
    }
    throw error;
  }
}

/**
 * Checks an email and password. Every failure gets the same answer and takes
 * about the same time; attempts are limited per account and address.
 */
export async function verifyCredentials(
  prisma: Db,
  input: SignInInput,
  origin: RequestOrigin,
): Promise<{ id: string; email: string; name: string; image: string | null }> {
  const retryAfterMs = await takeSignInAttempt(input.email, origin.ip);
  if (retryAfterMs > 0) {
    await recordAudit(prisma, {
      action: "auth.sign_in_throttled",
      metadata: { email: input.email, retryAfterMs },
      ...origin,
    });
    throw new DomainError("TOO_MANY_REQUESTS", SIGN_IN_THROTTLED_MESSAGE, { retryAfterMs });
  }
  const user = await prisma.user.findUnique({
    where: { email: input.email },
    select: { id: true, email: true, name: true, image: true, passwordHash: true, disabledAt: true },
  });
  const valid = user?.passwordHash
    ? await verifyPassword(input.password, user.passwordHash)
    : await verifyAgainstDummy(input.password);
  if (!user || !valid || user.disabledAt) {
    // Both paths write the same one row, so an unknown email and a wrong password
    // still take the same time. Never the password tried.
    await recordAudit(prisma, {
      actorId: null,
      action: "auth.sign_in_failed",
      targetType: "user",
      targetId: user?.id,
      metadata: {
        email: input.email,
        accountExists: user !== null,
        reason: !user ? "unknown_email" : !valid ? "wrong_password" : "disabled",
      },
      ...origin,
    });
    throw new DomainError("UNAUTHORIZED", INVALID_CREDENTIALS_MESSAGE);
  }
  await refundSignInAttempt(input.email, origin.ip);
  return { id: user.id, email: user.email, name: user.name, image: user.image };
}

/**
 * Finds or creates the account for an OAuth identity. An existing account with the
 * same email is linked only when the provider vouches that the email is verified;
 * otherwise anyone who registered that address at the provider could take it over.
 */
export async function upsertOAuthUser(
  prisma: Db,
  identity: {
    provider: string;
    providerAccountId: string;
    email: string;
    emailVerified: boolean;
    name: string;
    image: string | null;
  },
): Promise<{ id: string }> {
  const linked = await prisma.account.findUnique({
    where: { provider_providerAccountId: { provider: identity.provider, providerAccountId: identity.providerAccountId } },
    select: { userId: true },
  });
  if (linked) return { id: linked.userId };
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${FIRST_ADMIN_LOCK})`;
    let user = await tx.user.findUnique({ where: { email: identity.email }, select: { id: true } });
    if (user && !identity.emailVerified) {
      throw new DomainError(
        "CONFLICT",
        "An account with this email already exists. Sign in with your password to use it.",
      );
    }
    if (!user) {
      user = await tx.user.create({
        data: { email: identity.email, name: identity.name, image: identity.image },
        select: { id: true },
      });
      const hasSuperAdmin = await tx.userRole.findFirst({ where: { role: { name: ROLES.superAdmin } } });
      await grantRoles(tx, user.id, hasSuperAdmin ? [ROLES.user] : [ROLES.user, ROLES.superAdmin]);
    }
    await tx.account.create({
      data: { userId: user.id, provider: identity.provider, providerAccountId: identity.providerAccountId },
    });
    return user;
  });
}

const SESSION_USER_SELECT = {
  id: true,
  email: true,
  name: true,
  image: true,
  disabledAt: true,
  roles: { select: { role: { select: { name: true, permissions: { select: { permission: { select: { key: true } } } } } } } },
} as const;

type SessionUserRow = {
  id: string;
  email: string;
  name: string;
  image: string | null;
  disabledAt: Date | null;
  roles: { role: { name: string; permissions: { permission: { key: string } }[] } }[];
};

function toSessionUser(user: SessionUserRow | null): SessionUser | null {
  if (!user || user.disabledAt) return null;
  const roles = user.roles.map(({ role }) => role.name).sort();
  const permissions = [
    ...new Set(user.roles.flatMap(({ role }) => role.permissions.map(({ permission }) => permission.key))),
  ].sort();
  return { id: user.id, email: user.email, name: user.name, image: user.image, roles, permissions };
}

/** The signed-in user with roles and permissions; null when the account is gone or disabled. */
export async function loadSessionUser(prisma: Db, userId: string): Promise<SessionUser | null> {
  return toSessionUser(await prisma.user.findUnique({ where: { id: userId }, select: SESSION_USER_SELECT }));
}

/**
 * Of `userIds`, those whose account exists, is enabled and holds `permission`
 * through a role: the same rule as loadSessionUser(...).permissions, asked for
 * thousands at once in one query that builds no user objects (the periodic
 * re-check of open streams).
 */
export async function usersHoldingPermission(
  prisma: Pick<Db, "$queryRaw">,
  userIds: readonly string[],
  permission: PermissionKey,
): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT u.id FROM users u
     WHERE u.id = ANY(${[...new Set(userIds)]}::uuid[]) AND u.disabled_at IS NULL
       AND EXISTS (SELECT 1 FROM user_roles ur
                     JOIN role_permissions rp ON rp.role_id = ur.role_id
                     JOIN permissions p ON p.id = rp.permission_id
                    WHERE ur.user_id = u.id AND p.key = ${permission})`;
  return new Set(rows.map((row) => row.id));
}

