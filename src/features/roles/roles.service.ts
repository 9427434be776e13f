import { recordAudit } from "~/features/audit/audit.service";
import { PERMISSIONS, ROLES } from "~/features/permissions/catalog";
import type { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";
import { DomainError } from "~/server/errors";
import { logger } from "~/server/logger";
import type { EventBus } from "~/server/realtime/event-bus";
import { announceAccessChange } from "./access-changes";
import {
  LAST_SUPER_ADMIN_MESSAGE,
  SUPER_ADMIN_KEEPS_ROLES_MANAGE_MESSAGE,
  type RolesListOutput,
  type RoleUsersOutput,
  type SetRolePermissionsInput,
  type SetUserRolesInput,
} from "./contracts";

// Roles' permissions and users' roles, edited by Super Admins (`roles:manage`).
// Permissions are read from these tables on every HTTP request (the session
// cookie carries only the user id), so a change applies to the affected user's
// next request; a change is also announced on the bus, so open WebSocket
// connections on every instance reload their user on their next call.

export interface RolesActor {
  userId: string;
  ip: string | null;
  userAgent: string | null;
}

export interface RolesDeps {
  prisma: Db;
  /** Where a change is announced to every instance (this one included). */
  bus: Pick<EventBus, "publish">;
}

/**
 * The change is committed and audited; a bus that cannot take the notice (Redis
 * down) must not turn it into an error. Connections elsewhere then reload their
 * user when their minute is up.
 */
async function announceAccessChangeSafely(bus: Pick<EventBus, "publish">): Promise<void> {
  await announceAccessChange(bus).catch((error: unknown) => {
    logger.warn({ err: error }, "announcing a role change to the other instances failed");
  });
}

/**
 * Role changes run one at a time (a transaction-scoped advisory lock), so two
 * Super Admins demoting each other at once cannot both pass the last-one check.
 */
async function lockRoleChanges(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('chatline:roles'))`;
}

/** roles.list: every role (by name) with its permission keys and member count, and the permissions there are. */
export async function listRoles(prisma: Db): Promise<RolesListOutput> {
  const [roles, permissions] = await Promise.all([
    prisma.role.findMany({
      orderBy: { name: "asc" },
      select: {
        id: true,
        name: true,
        description: true,
        permissions: { select: { permission: { select: { key: true } } } },
        _count: { select: { users: true } },
      },
    }),
    prisma.permission.findMany({ orderBy: { key: "asc" }, select: { key: true, description: true } }),
  ]);
  return {
    roles: roles.map((role) => ({
      id: role.id,
      name: role.name,
      description: role.description,
      permissions: role.permissions.map(({ permission }) => permission.key).sort(),
      memberCount: role._count.users,
    })),
    permissions,
  };
}

/**
 * roles.setPermissions: replaces a role's permissions. The Super Admin role keeps
 * `roles:manage`. Audited as `role.permissions_changed` with before and after; an
 * unchanged set writes nothing.
 */
export async function setRolePermissions({ prisma, bus }: RolesDeps, actor: RolesActor, input: SetRolePermissionsInput) {
  const wanted = [...new Set(input.permissionKeys)].sort();
  const changed = await prisma.$transaction(async (tx) => {
    await lockRoleChanges(tx);
    const role = await tx.role.findUnique({
      where: { id: input.roleId },
      select: { id: true, name: true, permissions: { select: { permission: { select: { key: true } } } } },
    });
    if (!role) throw new DomainError("NOT_FOUND", "That role does not exist.");
    const permissions = await tx.permission.findMany({ where: { key: { in: wanted } }, select: { id: true, key: true } });
    const unknown = wanted.filter((key) => !permissions.some((permission) => permission.key === key));
    if (unknown.length > 0) throw new DomainError("BAD_REQUEST", `Unknown permission: ${unknown.join(", ")}.`);
    if (role.name === ROLES.superAdmin && !wanted.includes(PERMISSIONS.rolesManage)) {
      throw new DomainError("CONFLICT", SUPER_ADMIN_KEEPS_ROLES_MANAGE_MESSAGE);
    }
    const before = role.permissions.map(({ permission }) => permission.key).sort();
    if (before.join("\n") === wanted.join("\n")) return false;
    await tx.rolePermission.deleteMany({ where: { roleId: role.id, permission: { key: { notIn: wanted } } } });
    await tx.rolePermission.createMany({
      data: permissions.map((permission) => ({ roleId: role.id, permissionId: permission.id })),
      skipDuplicates: true,
    });
    await recordAudit(tx, {
      actorId: actor.userId,
      action: "role.permissions_changed",
      targetType: "role",
      targetId: role.id,
      metadata: {
        role: role.name,
        before,
        after: wanted,
        added: wanted.filter((key) => !before.includes(key)),
        removed: before.filter((key) => !wanted.includes(key)),
      },
      ip: actor.ip,
      userAgent: actor.userAgent,
    });
    return true;
  });
  if (changed) await announceAccessChangeSafely(bus);
  return listRoles(prisma);
}

/** roles.users: users by email, with their roles, filtered by part of a name or email, a page at a time. */
export async function listRoleUsers(
  prisma: Db,
  input: { query?: string; cursor?: string | null; limit: number },
): Promise<RoleUsersOutput> {
  const where: Prisma.UserWhereInput = input.query
    ? {
        OR: [
          { name: { contains: input.query, mode: "insensitive" } },
          { email: { contains: input.query, mode: "insensitive" } },
        ],
      }
    : {};
  const rows = await prisma.user.findMany({
    where,
    orderBy: [{ email: "asc" }, { id: "asc" }],
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    take: input.limit + 1,
    select: {
      id: true,
      name: true,
      email: true,
      disabledAt: true,
      roles: { select: { role: { select: { id: true, name: true } } } },
    },
  });
  const page = rows.slice(0, input.limit);
  return {
    items: page.map((user) => ({
      id: user.id,
      name: user.name,
      email: user.email,
      disabled: user.disabledAt !== null,
      roles: user.roles.map(({ role }) => role).sort((a, b) => a.name.localeCompare(b.name)),
    })),
    nextCursor: rows.length > input.limit ? page[page.length - 1]!.id : null,
  };
}

/**
 * roles.setUserRoles: replaces a user's roles. The last enabled Super Admin keeps
 * that role. Audited as `user.roles_changed` with the role names before and after;
 * an unchanged set writes nothing. Returns the user as roles.users lists them.
 */
export async function setUserRoles({ prisma, bus }: RolesDeps, actor: RolesActor, input: SetUserRolesInput) {
  const wanted = [...new Set(input.roleIds)];
  const changed = await prisma.$transaction(async (tx) => {
    await lockRoleChanges(tx);
    const user = await tx.user.findUnique({
      where: { id: input.userId },
      select: { id: true, roles: { select: { role: { select: { id: true, name: true } } } } },
    });
    if (!user) throw new DomainError("NOT_FOUND", "That user does not exist.");
    const roles = await tx.role.findMany({ where: { id: { in: wanted } }, select: { id: true, name: true } });
    if (roles.length !== wanted.length) throw new DomainError("BAD_REQUEST", "One of those roles does not exist.");
    const before = user.roles.map(({ role }) => role);
    const beforeNames = before.map((role) => role.name).sort();
    const afterNames = roles.map((role) => role.name).sort();
    if (beforeNames.join("\n") === afterNames.join("\n")) return false;

    const losesSuperAdmin = beforeNames.includes(ROLES.superAdmin) && !afterNames.includes(ROLES.superAdmin);
    if (losesSuperAdmin) {
      const others = await tx.userRole.count({
        where: { role: { name: ROLES.superAdmin }, userId: { not: user.id }, user: { disabledAt: null } },
      });
      if (others === 0) throw new DomainError("CONFLICT", LAST_SUPER_ADMIN_MESSAGE);
    }
    await tx.userRole.deleteMany({ where: { userId: user.id, roleId: { notIn: wanted } } });
    await tx.userRole.createMany({ data: wanted.map((roleId) => ({ userId: user.id, roleId })), skipDuplicates: true });
    await recordAudit(tx, {
      actorId: actor.userId,
      action: "user.roles_changed",
      targetType: "user",
      targetId: user.id,
      metadata: {
        before: beforeNames,
        after: afterNames,
        added: afterNames.filter((name) => !beforeNames.includes(name)),
        removed: beforeNames.filter((name) => !afterNames.includes(name)),
      },
      ip: actor.ip,
      userAgent: actor.userAgent,
    });
    return true;
  });
  if (changed) await announceAccessChangeSafely(bus);
  const [updated] = (await listRoleUsersByIds(prisma, [input.userId])).items;
  return updated!;
}

async function listRoleUsersByIds(prisma: Db, ids: string[]): Promise<RoleUsersOutput> {
  const rows = await prisma.user.findMany({
    where: { id: { in: ids } },
    select: { id: true, name: true, email: true, disabledAt: true, roles: { select: { role: { select: { id: true, name: true } } } } },
  });
  return {
    items: rows.map((user) => ({
      id: user.id,
      name: user.name,
      email: user.email,
      disabled: user.disabledAt !== null,
      roles: user.roles.map(({ role }) => role).sort((a, b) => a.name.localeCompare(b.name)),
    })),
    nextCursor: null,
  };
}
