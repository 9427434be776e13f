import type { Metadata } from "next";
import { requirePagePermission } from "~/features/auth/page-guards";
import { PERMISSIONS } from "~/features/permissions/catalog";
import { MessagingSettingsForm } from "~/features/settings/components/messaging-settings-form";
import { SettingsHistory } from "~/features/settings/components/settings-history";
import { getMessagingSettings } from "~/features/settings/settings.service";
import { db } from "~/server/db/client";

export const metadata: Metadata = { title: "Messaging settings" };

export default async function MessagingSettingsPage() {
  const user = await requirePagePermission(PERMISSIONS.messagingSettingsRead, "/dashboard/settings/messaging");
  const settings = await getMessagingSettings(db());
  const canWrite = user.permissions.includes(PERMISSIONS.messagingSettingsWrite);

  return (
    <div className="grid max-w-3xl gap-6">
      <div className="grid gap-1">
        <h1 className="text-2xl font-semibold">Messaging settings</h1>
        <p className="text-muted-foreground text-sm">Changes take effect at once for everyone, on every open page.</p>
      </div>
      <MessagingSettingsForm initial={settings} canWrite={canWrite} />
      <SettingsHistory />
    </div>
  );
}
