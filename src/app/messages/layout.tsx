import type { Metadata } from "next";
import type { ReactNode } from "react";
import { getServerSession } from "next-auth";
import { redirect } from "next/navigation";
import { authOptions } from "~/features/auth/next-auth-options";
import { MessagingShell } from "~/features/messages/components/messaging-shell";
import { PERMISSIONS } from "~/features/permissions/catalog";
import { getPublicSettings } from "~/features/settings/settings.service";
import { db } from "~/server/db/client";

export const metadata: Metadata = { title: "Messages" };

export default async function MessagesLayout({ children }: { children: ReactNode }) {
  const session = await getServerSession(authOptions);
  const user = session?.user;
  if (!user) redirect("/sign-in?callbackUrl=/messages");
  if (!user.permissions.includes(PERMISSIONS.messagingAccess)) redirect("/");
  const settings = await getPublicSettings(db());
  if (!settings.enabled) redirect("/");

  return (
    <MessagingShell
      viewer={{ id: user.id, name: user.name, email: user.email, image: user.image, permissions: user.permissions }}
      initialSettings={settings}
    >
      {children}
    </MessagingShell>
  );
}
