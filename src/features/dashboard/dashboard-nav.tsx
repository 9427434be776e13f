"use client";

import { ActivityIcon, MegaphoneIcon, ScrollTextIcon, SettingsIcon, ShieldCheckIcon } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { cn } from "~/lib/utils";
import type { DashboardSection, DashboardSectionEntry } from "./sections";

export const SECTION_ICONS: Record<DashboardSection, typeof SettingsIcon> = {
  settings: SettingsIcon,
  audit: ScrollTextIcon,
  operations: ActivityIcon,
  announcements: MegaphoneIcon,
  roles: ShieldCheckIcon,
};

/** The admin pages the signed-in user may open; the current one is marked. */
export function DashboardNav({ sections }: { sections: DashboardSectionEntry[] }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Administration">
      <ul className="flex gap-1 md:flex-col">
        {sections.map(({ key, href, label }) => {
          const Icon = SECTION_ICONS[key];
          const current = pathname === href || pathname.startsWith(`${href}/`);
          return (
            <li key={key}>
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
