import { PERMISSIONS, type PermissionKey } from "~/features/permissions/catalog";

// The admin pages and the permission each needs to be offered: one list for the
// dashboard's navigation and the account menu (each page checks its own
// permission again when it renders).

export const DASHBOARD_SECTIONS = [
  { key: "settings", href: "/dashboard/settings/messaging", label: "Settings", menuLabel: "Messaging settings", permission: PERMISSIONS.messagingSettingsRead },
  { key: "audit", href: "/dashboard/audit", label: "Audit log", menuLabel: "Audit log", permission: PERMISSIONS.messagingAdmin },
  { key: "operations", href: "/dashboard/operations", label: "Operations", menuLabel: "Operations", permission: PERMISSIONS.messagingAdmin },
  { key: "announcements", href: "/dashboard/announcements", label: "Announcements", menuLabel: "Announcements", permission: PERMISSIONS.messagingAdmin },
  { key: "roles", href: "/dashboard/roles", label: "Roles", menuLabel: "Roles", permission: PERMISSIONS.rolesManage },
] as const satisfies readonly { key: string; href: string; label: string; menuLabel: string; permission: PermissionKey }[];

export type DashboardSectionEntry = (typeof DASHBOARD_SECTIONS)[number];
export type DashboardSection = DashboardSectionEntry["key"];

/** The sections someone holding `permissions` may open, in the navigation's order. */
export function dashboardSectionsFor(permissions: readonly string[]): DashboardSectionEntry[] {
  return DASHBOARD_SECTIONS.filter((section) => permissions.includes(section.permission));
}
