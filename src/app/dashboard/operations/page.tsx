import type { Metadata } from "next";
import { requirePagePermission } from "~/features/auth/page-guards";
import { MessagingStatusPanel } from "~/features/ops/components/messaging-status-panel";
import { RetentionPanel } from "~/features/ops/components/retention-panel";
import { UserExportPanel } from "~/features/ops/components/user-export-panel";
import { PERMISSIONS } from "~/features/permissions/catalog";

export const metadata: Metadata = { title: "Operations" };

export default async function OperationsPage() {
  const user = await requirePagePermission(PERMISSIONS.messagingAdmin, "/dashboard/operations");
  return (
    <div className="grid gap-6">
      <div className="grid gap-1">
        <h1 className="text-2xl font-semibold">Operations</h1>
        <p className="text-muted-foreground text-sm">Who is connected now, what retention will delete, and data exports.</p>
      </div>
      <MessagingStatusPanel />
      <RetentionPanel canEditSettings={user.permissions.includes(PERMISSIONS.messagingSettingsRead)} />
      <UserExportPanel />
    </div>
  );
}
