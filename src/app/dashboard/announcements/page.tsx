import type { Metadata } from "next";
import { requirePagePermission } from "~/features/auth/page-guards";
import { AnnouncementForm } from "~/features/notifications/components/announcement-form";
import { PERMISSIONS } from "~/features/permissions/catalog";

export const metadata: Metadata = { title: "Announcements" };

export default async function AnnouncementsPage() {
  await requirePagePermission(PERMISSIONS.messagingAdmin, "/dashboard/announcements");
  return (
    <div className="grid max-w-3xl gap-6">
      <div className="grid gap-1">
        <h1 className="text-2xl font-semibold">Announcements</h1>
        <p className="text-muted-foreground text-sm">Notices from the administrators, delivered to people&apos;s notification bell.</p>
      </div>
      <AnnouncementForm />
    </div>
  );
}
