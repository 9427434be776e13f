import type { Metadata } from "next";
import { requirePagePermission } from "~/features/auth/page-guards";
import { PERMISSIONS } from "~/features/permissions/catalog";
import { RolePermissionsMatrix } from "~/features/roles/components/role-permissions-matrix";
import { UserRolesTable } from "~/features/roles/components/user-roles-table";

export const metadata: Metadata = { title: "Roles" };

export default async function RolesPage() {
  await requirePagePermission(PERMISSIONS.rolesManage, "/dashboard/roles");
  return (
    <div className="grid gap-8">
      <div className="grid gap-1">
        <h1 className="text-2xl font-semibold">Roles and permissions</h1>
        <p className="text-muted-foreground text-sm">
          Changes apply to each affected person&apos;s next request, without signing in again, and are recorded in the audit log.
        </p>
      </div>
      <section aria-labelledby="roles-matrix-heading" className="grid gap-3">
        <h2 id="roles-matrix-heading" className="text-lg font-semibold">
          Permissions of each role
        </h2>
        <RolePermissionsMatrix />
      </section>
      <section aria-labelledby="role-users-heading" className="grid gap-3">
        <h2 id="role-users-heading" className="text-lg font-semibold">
          People and their roles
        </h2>
        <UserRolesTable />
      </section>
    </div>
  );
}
