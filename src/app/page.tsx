import { getServerSession } from "next-auth";
import Link from "next/link";
import { redirect } from "next/navigation";

import { AppBrand } from "~/components/app-brand";
import { Badge } from "~/components/ui/badge";
import { Button } from "~/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "~/components/ui/card";
import { SignOutButton } from "~/features/auth/components/sign-out-button";
import { UserMenu } from "~/features/auth/components/user-menu";
import { authOptions } from "~/features/auth/next-auth-options";
import { MessagesPanelButton } from "~/features/messages/components/messages-panel";
import { NotificationBell } from "~/features/notifications/components/notification-bell";
import { PERMISSIONS } from "~/features/permissions/catalog";
import { getPublicSettings } from "~/features/settings/settings.service";
import { db } from "~/server/db/client";

export default async function HomePage() {
  const session = await getServerSession(authOptions);
  const user = session?.user;
  if (!user) redirect("/sign-in");

  const { name, email, roles } = user;
  const settings = await getPublicSettings(db());
  // Hidden for people without messaging, and for everyone while it is turned off. The
  // header icon is there for everyone allowed and hides itself, so it follows an admin's
  // switch live.
  const canMessage = user.permissions.includes(PERMISSIONS.messagingAccess);
  const messagingOn = settings.enabled && canMessage;
  const displayName = name.trim() || email;

  return (
    <div className="flex min-h-svh flex-col">
      <header className="bg-background border-b">
        <div className="mx-auto flex h-14 w-full max-w-5xl items-center justify-between gap-4 px-4">
          <AppBrand />
          <div className="flex items-center gap-2">
            {canMessage && <MessagesPanelButton viewerId={user.id} initialSettings={settings} />}
            {/* Live from the message icon's event stream; polled for people without messaging (announcements reach them too). */}
            <NotificationBell live={canMessage} settingsHref={canMessage ? "/messages/settings" : null} />
            <UserMenu name={name} email={email} image={user.image} permissions={user.permissions} />
          </div>
        </div>
      </header>

      <main className="mx-auto w-full max-w-5xl flex-1 px-4 py-10">
        <Card className="max-w-xl">
          <CardHeader>
            <CardTitle>
              <h1 className="text-xl">You&apos;re signed in as {displayName}</h1>
            </CardTitle>
            <CardDescription>{email}</CardDescription>
          </CardHeader>
          <CardContent className="grid gap-3">
            <h2 id="roles-heading" className="text-sm font-medium">
              Your roles
            </h2>
            {roles.length > 0 ? (
              <ul aria-labelledby="roles-heading" className="flex flex-wrap gap-2">
                {roles.map((role) => (
                  <li key={role}>
                    <Badge variant="secondary">{role}</Badge>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="text-muted-foreground text-sm">No roles are assigned to your account yet.</p>
            )}
          </CardContent>
          <CardFooter className="gap-2">
            {messagingOn && (
              <Button asChild>
                <Link href="/messages">Open messages</Link>
              </Button>
            )}
            <SignOutButton variant="outline" />
          </CardFooter>
        </Card>
      </main>
    </div>
  );
}
