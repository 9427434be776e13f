import { getServerSession } from "next-auth";
import { notFound, redirect } from "next/navigation";
import type { PermissionKey } from "~/features/permissions/catalog";
import type { SessionUser } from "./contracts";
import { authOptions } from "./next-auth-options";

/**
 * For a server component page: the signed-in user holding `permission`. Someone
 * signed out goes to sign-in (and comes back to `path`); someone signed in without
 * the permission gets the 404 page, which does not say the page exists.
 *
 * Each page calls it itself: a layout does not run again on client navigation,
 * and pages render alongside their layout, so a layout's check protects nothing.
 */
export async function requirePagePermission(permission: PermissionKey, path: string): Promise<SessionUser> {
  const session = await getServerSession(authOptions);
  const user = session?.user;
  if (!user) redirect(`/sign-in?callbackUrl=${encodeURIComponent(path)}`);
  if (!user.permissions.includes(permission)) notFound();
  return user;
}
