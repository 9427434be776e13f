import type { Metadata } from "next";
import { AuditLog } from "~/features/audit/components/audit-log";
import { requirePagePermission } from "~/features/auth/page-guards";
import { PERMISSIONS } from "~/features/permissions/catalog";

export const metadata: Metadata = { title: "Audit log" };

export default async function AuditPage() {
  await requirePagePermission(PERMISSIONS.messagingAdmin, "/dashboard/audit");
  return (
    <div className="grid gap-6">
      <div className="grid gap-1">
        <h1 className="text-2xl font-semibold">Audit log</h1>
        <p className="text-muted-foreground text-sm">
          Who did what, when and from where: sign-ups, failed sign-ins, settings changes and moderation.
        </p>
      </div>
      <AuditLog />
    </div>
  );
}
