// The permissions and roles every installation has. Roles are data (a Super Admin
// may change their permissions later); these are the sets they start with.

export const PERMISSIONS = {
  /** Use messaging: conversations, messages, presence. */
  messagingAccess: "messaging:access",
  messagingSettingsRead: "messaging:settings:read",
  messagingSettingsWrite: "messaging:settings:write",
  /** Moderate: delete any message, remove any member, read a conversation's audit. */
  messagingAdmin: "messaging:admin",
  /** Edit roles' permissions and users' roles. */
  rolesManage: "roles:manage",
} as const;

export type PermissionKey = (typeof PERMISSIONS)[keyof typeof PERMISSIONS];

export const PERMISSION_DESCRIPTIONS: Record<PermissionKey, string> = {
  "messaging:access": "Use messaging",
  "messaging:settings:read": "See the messaging settings",
  "messaging:settings:write": "Change the messaging settings",
  "messaging:admin": "Moderate conversations and messages",
  "roles:manage": "Edit roles and who has them",
};

export const ROLES = {
  user: "User",
  admin: "Admin",
  superAdmin: "Super Admin",
} as const;

export type RoleName = (typeof ROLES)[keyof typeof ROLES];

export const DEFAULT_ROLE_PERMISSIONS: Record<RoleName, { description: string; permissions: PermissionKey[] }> = {
  User: { description: "Everyone who signs up", permissions: ["messaging:access"] },
  Admin: {
    description: "Runs messaging: settings and moderation",
    permissions: ["messaging:access", "messaging:settings:read", "messaging:settings:write", "messaging:admin"],
  },
  "Super Admin": {
    description: "Everything, including roles",
    permissions: [
      "messaging:access",
      "messaging:settings:read",
      "messaging:settings:write",
      "messaging:admin",
      "roles:manage",
    ],
  },
};
