import { DEMO_PASSWORD, DEMO_USERS } from "~/features/auth/demo-users";
import { hashPassword } from "~/features/auth/password";
import {
  DEFAULT_ROLE_PERMISSIONS,
  PERMISSION_DESCRIPTIONS,
  ROLES,
  type PermissionKey,
  type RoleName,
} from "~/features/permissions/catalog";
import { initialMessagingSettings } from "~/features/settings/defaults";
import type { Db } from "~/server/db/client";
import type { Env } from "~/server/env";

// Data every installation needs (permissions, roles, the settings row), the first
// admin of a production database, and the demo accounts of a development one.
// Everything here is idempotent: it runs at every start.

export async function ensureBaseData(prisma: Db, env: Env): Promise<void> {
  for (const [key, description] of Object.entries(PERMISSION_DESCRIPTIONS) as [PermissionKey, string][]) {
    await prisma.permission.upsert({ where: { key }, create: { key, description }, update: {} });
  }
  const permissions = await prisma.permission.findMany({ select: { id: true, key: true } });
  const permissionId = new Map(permissions.map((p) => [p.key, p.id]));
  for (const [name, role] of Object.entries(DEFAULT_ROLE_PERMISSIONS) as [RoleName, (typeof DEFAULT_ROLE_PERMISSIONS)[RoleName]][]) {
    // A role that exists keeps whatever permissions a Super Admin gave it.
    const existing = await prisma.role.findUnique({ where: { name }, select: { id: true } });
    if (existing) continue;
    await prisma.role.create({
      data: {
        name,
        description: role.description,
        permissions: { create: role.permissions.map((key) => ({ permissionId: permissionId.get(key)! })) },
      },
    });
  }
  await prisma.messagingSettings.upsert({ where: { id: 1 }, create: { id: 1, ...initialMessagingSettings(env) }, update: {} });
}

async function createUserWithRoles(
  prisma: Db,
  user: { email: string; name: string; password: string; roles: RoleName[] },
): Promise<boolean> {
  const existing = await prisma.user.findUnique({ where: { email: user.email }, select: { id: true } });
  if (existing) return false;
  const roles = await prisma.role.findMany({ where: { name: { in: user.roles } }, select: { id: true } });
  await prisma.user.create({
    data: {
      email: user.email,
      name: user.name,
      passwordHash: await hashPassword(user.password),
      roles: { create: roles.map((role) => ({ roleId: role.id })) },
    },
  });
  return true;
}

/** The first admin of a production database, from ADMIN_EMAIL / ADMIN_PASSWORD. */
export async function ensureAdminFromEnv(prisma: Db, env: Env): Promise<boolean> {
  if (!env.ADMIN_EMAIL || !env.ADMIN_PASSWORD) return false;
  return createUserWithRoles(prisma, {
    email: env.ADMIN_EMAIL.toLowerCase(),
    name: env.ADMIN_NAME,
    password: env.ADMIN_PASSWORD,
    roles: [ROLES.user, ROLES.superAdmin],
  });
}

/** Creates the demo accounts that do not exist yet; returns how many were created. */
export async function seedDemoUsers(prisma: Db): Promise<number> {
  const created = await Promise.all(
    DEMO_USERS.map((user) => createUserWithRoles(prisma, { ...user, password: DEMO_PASSWORD })),
  );
  return created.filter(Boolean).length;
}

/**
 * Demo accounts belong on a developer's embedded database, never on a production
 * one: SEED_DEMO_USERS decides when set, otherwise only the embedded database gets them.
 */
export function demoUsersWanted(env: Env, embedded: boolean): boolean {
  if (env.NODE_ENV === "production" && env.DATABASE_URL) return false;
  return env.SEED_DEMO_USERS ?? embedded;
}
