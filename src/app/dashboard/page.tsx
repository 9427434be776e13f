import { getServerSession } from "next-auth";
import { notFound, redirect } from "next/navigation";
import { authOptions } from "~/features/auth/next-auth-options";
import { PERMISSIONS } from "~/features/permissions/catalog";

/** /dashboard opens the first section the user may see. */
export default async function DashboardPage() {
  const session = await getServerSession(authOptions);
  const user = session?.user;
  if (!user) redirect("/sign-in?callbackUrl=/dashboard");
  if (user.permissions.includes(PERMISSIONS.messagingSettingsRead)) redirect("/dashboard/settings/messaging");
  if (user.permissions.includes(PERMISSIONS.messagingAdmin)) redirect("/dashboard/audit");
  if (user.permissions.includes(PERMISSIONS.rolesManage)) redirect("/dashboard/roles");
  notFound();
}
