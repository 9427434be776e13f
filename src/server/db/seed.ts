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
import pg from "pg";
import type { Database, Db } from "~/server/db/client";
import type { Env } from "~/server/env";

// Data every installation needs (permissions, roles, the settings row), the first
// admin of a production database, and the demo accounts of a development one.
// Everything here is idempotent: it runs at every start.

export async function ensureBaseData(prisma: Db, env: Env, options: { demo?: boolean } = {}): Promise<void> {
  // Read first and write only what is missing: every start runs this, and on a
  // database set up before (every restart) it is then three reads in parallel
  // instead of a dozen statements in a row.
  const roleNames = Object.keys(DEFAULT_ROLE_PERMISSIONS) as RoleName[];
  const [existingPermissions, existingRoles, settings] = await Promise.all([
    prisma.permission.findMany({ select: { id: true, key: true } }),
    prisma.role.findMany({ where: { name: { in: roleNames } }, select: { name: true } }),
    prisma.messagingSettings.findUnique({ where: { id: 1 }, select: { id: true } }),
  ]);
  const missingPermissions = (Object.entries(PERMISSION_DESCRIPTIONS) as [PermissionKey, string][]).filter(
    ([key]) => !existingPermissions.some((permission) => permission.key === key),
  );
  for (const [key, description] of missingPermissions) {
    await prisma.permission.upsert({ where: { key }, create: { key, description }, update: {} });
  }
  const permissions =
    missingPermissions.length > 0 ? await prisma.permission.findMany({ select: { id: true, key: true } }) : existingPermissions;
  const permissionId = new Map(permissions.map((p) => [p.key, p.id]));
  // A role that exists keeps whatever permissions a Super Admin gave it.
  const roleExists = new Set(existingRoles.map((role) => role.name));
  for (const name of roleNames.filter((roleName) => !roleExists.has(roleName))) {
    const role = DEFAULT_ROLE_PERMISSIONS[name];
    await prisma.role.create({
      data: {
        name,
        description: role.description,
        permissions: { create: role.permissions.map((key) => ({ permissionId: permissionId.get(key)! })) },
      },
    });
  }
  if (!settings) {
    await prisma.messagingSettings.upsert({ where: { id: 1 }, create: { id: 1, ...initialMessagingSettings(env, options) }, update: {} });
  }
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
 * Demo accounts (with a published password) belong on a developer's embedded
 * database: never on a production database, and in production mode on the
 * embedded one only when SEED_DEMO_USERS=true asks for them.
 */
export function demoUsersWanted(env: Env, embedded: boolean): boolean {
  if (env.NODE_ENV === "production" && env.DATABASE_URL) return false;
  return env.SEED_DEMO_USERS ?? (embedded && env.NODE_ENV !== "production");
}

/** Serializes start-up seeding when several instances start on one empty database. */
const BOOTSTRAP_LOCK = 7_310_002;

export interface BootstrapResult {
  adminCreated: boolean;
  demoUsersCreated: number;
  hasSuperAdmin: boolean;
}

/**
 * Everything a start needs in the database: base data, the first admin from the
 * environment, and the demo users on the first start of an empty database when
 * wanted. Holds an advisory lock on a connection of its own meanwhile.
 */
export async function bootstrapDatabase(
  database: Database,
  env: Env,
  options: { demoUsers: boolean },
): Promise<BootstrapResult> {
  const lock = new pg.Client({ connectionString: database.connectionString });
  await lock.connect();
  try {
    await lock.query("SELECT pg_advisory_lock($1)", [BOOTSTRAP_LOCK]);
    const { prisma } = database;
    await ensureBaseData(prisma, env, { demo: options.demoUsers });
    const adminCreated = await ensureAdminFromEnv(prisma, env);
    const demoUsersCreated = options.demoUsers && (await prisma.user.count()) === 0 ? await seedDemoUsers(prisma) : 0;
    const hasSuperAdmin = (await prisma.userRole.count({ where: { role: { name: ROLES.superAdmin } } })) > 0;
    return { adminCreated, demoUsersCreated, hasSuperAdmin };
  } finally {
    await lock.query("SELECT pg_advisory_unlock($1)", [BOOTSTRAP_LOCK]).catch(() => undefined);
    await lock.end();
  }
}
