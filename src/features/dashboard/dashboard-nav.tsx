"use client";

import { ActivityIcon, ScrollTextIcon, SettingsIcon, ShieldCheckIcon } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { cn } from "~/lib/utils";

export type DashboardSection = "settings" | "audit" | "roles" | "operations";

const SECTIONS: Record<DashboardSection, { href: string; label: string; icon: typeof SettingsIcon }> = {
  settings: { href: "/dashboard/settings/messaging", label: "Settings", icon: SettingsIcon },
  audit: { href: "/dashboard/audit", label: "Audit log", icon: ScrollTextIcon },
  operations: { href: "/dashboard/operations", label: "Operations", icon: ActivityIcon },
  roles: { href: "/dashboard/roles", label: "Roles", icon: ShieldCheckIcon },
};

/** The admin pages the signed-in user may open; the current one is marked. */
export function DashboardNav({ sections }: { sections: DashboardSection[] }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Administration">
      <ul className="flex gap-1 md:flex-col">
        {sections.map((section) => {
          const { href, label, icon: Icon } = SECTIONS[section];
          const current = pathname === href || pathname.startsWith(`${href}/`);
          return (
            <li key={section}>
              <Link
                href={href}
                aria-current={current ? "page" : undefined}
                className={cn(
                  "hover:bg-accent hover:text-accent-foreground flex items-center gap-2 rounded-md px-3 py-2 text-sm font-medium",
                  current ? "bg-accent text-accent-foreground" : "text-muted-foreground",
                )}
              >
                <Icon className="size-4" aria-hidden="true" />
                {label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
