import { z } from "zod";

// Roles and who has them (roles.*, `roles:manage`): shared by the procedures and
// the Super Admin page.

/** Refused: it would leave the installation without anyone able to manage roles. */
export const LAST_SUPER_ADMIN_MESSAGE = "The last Super Admin cannot lose that role. Make someone else a Super Admin first.";
export const SUPER_ADMIN_KEEPS_ROLES_MANAGE_MESSAGE = 'The Super Admin role always keeps "roles:manage".';

export const rolePermissionSchema = z.object({ key: z.string(), description: z.string() });

export const roleViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  /** Permission keys, sorted. */
  permissions: z.array(z.string()),
  memberCount: z.number().int().nonnegative(),
});
export type RoleView = z.infer<typeof roleViewSchema>;

/** roles.list: every role with its permissions and member count, and every permission there is. */
export const rolesListOutput = z.object({
  roles: z.array(roleViewSchema),
  permissions: z.array(rolePermissionSchema),
});
export type RolesListOutput = z.infer<typeof rolesListOutput>;

export const setRolePermissionsInput = z.object({
  roleId: z.uuid(),
  /** The role's whole set of permissions afterwards. */
  permissionKeys: z.array(z.string().trim().min(1).max(100)).max(100),
});
export type SetRolePermissionsInput = z.infer<typeof setRolePermissionsInput>;

export const ROLE_USERS_PAGE_SIZE = { default: 20, max: 100 } as const;

export const roleUsersInput = z.object({
  /** Part of a name or email, any case. */
  query: z.string().trim().max(200).optional(),
  /** Users are ordered by email; the cursor is the last id of the previous page. */
  cursor: z.uuid().nullish(),
  limit: z.number().int().min(1).max(ROLE_USERS_PAGE_SIZE.max).default(ROLE_USERS_PAGE_SIZE.default),
});
export type RoleUsersInput = z.input<typeof roleUsersInput>;

export const roleUserSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  email: z.string(),
  disabled: z.boolean(),
  roles: z.array(z.object({ id: z.uuid(), name: z.string() })),
});
export type RoleUser = z.infer<typeof roleUserSchema>;

export const roleUsersOutput = z.object({ items: z.array(roleUserSchema), nextCursor: z.string().nullable() });
export type RoleUsersOutput = z.infer<typeof roleUsersOutput>;

export const setUserRolesInput = z.object({
  userId: z.uuid(),
  /** The user's whole set of roles afterwards. */
  roleIds: z.array(z.uuid()).max(50),
});
export type SetUserRolesInput = z.infer<typeof setUserRolesInput>;
