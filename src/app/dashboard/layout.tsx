import type { Metadata } from "next";
import type { ReactNode } from "react";
import { getServerSession } from "next-auth";
import { notFound, redirect } from "next/navigation";
import { AppBrand } from "~/components/app-brand";
import { UserMenu } from "~/features/auth/components/user-menu";
import { authOptions } from "~/features/auth/next-auth-options";
import { DashboardNav } from "~/features/dashboard/dashboard-nav";
import { dashboardSectionsFor } from "~/features/dashboard/sections";
import { NotificationBell } from "~/features/notifications/components/notification-bell";
import { PERMISSIONS } from "~/features/permissions/catalog";

export const metadata: Metadata = { title: { default: "Administration", template: "%s · Administration · Chatline" } };

/** The admin pages' frame: header and the sections the user may open (each page checks its own permission). */
export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const session = await getServerSession(authOptions);
  const user = session?.user;
  if (!user) redirect("/sign-in?callbackUrl=/dashboard");
  const sections = dashboardSectionsFor(user.permissions);
  if (sections.length === 0) notFound();

  return (
    <div className="flex min-h-svh flex-col">
      <header className="bg-background border-b">
        <div className="mx-auto flex h-14 w-full max-w-6xl items-center justify-between gap-4 px-4">
          <div className="flex items-center gap-3">
            <AppBrand />
            <span className="text-muted-foreground text-sm">Administration</span>
          </div>
          <div className="flex items-center gap-2">
            {/* No event stream on these pages: the bell polls. Its settings are a messaging page. */}
            <NotificationBell
              live={false}
              settingsHref={user.permissions.includes(PERMISSIONS.messagingAccess) ? "/messages/settings" : null}
            />
            <UserMenu name={user.name} email={user.email} image={user.image} permissions={user.permissions} />
          </div>
        </div>
      </header>
      <div className="mx-auto flex w-full max-w-6xl flex-1 flex-col gap-6 px-4 py-6 md:flex-row">
        <aside className="md:w-48 md:shrink-0">
          <DashboardNav sections={sections} />
        </aside>
        <main className="min-w-0 flex-1">{children}</main>
      </div>
    </div>
  );
}
