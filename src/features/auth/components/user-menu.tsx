"use client";

import { BellIcon, ChevronDownIcon, DownloadIcon, Loader2Icon, LogOutIcon } from "lucide-react";
import Link from "next/link";
import { useState } from "react";

import { ThemeMenuGroup } from "~/components/theme-toggle";
import { Avatar, AvatarFallback, AvatarImage } from "~/components/ui/avatar";
import { Button } from "~/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "~/components/ui/dropdown-menu";
import { SECTION_ICONS } from "~/features/dashboard/dashboard-nav";
import { dashboardSectionsFor } from "~/features/dashboard/sections";
import { OWN_EXPORT_URL, useExportDownload } from "~/features/ops/download-export";
import { PERMISSIONS } from "~/features/permissions/catalog";
import { signOutToSignInPage } from "./sign-out-button";

type UserMenuProps = {
  name: string;
  email: string;
  image: string | null;
  /** The signed-in user's permissions: the admin pages are offered to those who may open them. */
  permissions?: readonly string[];
};

function initialsOf(name: string, email: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 0 ? words.slice(0, 2).map((word) => word[0]) : [email[0]];
  return letters.join("").toUpperCase() || "?";
}

export function UserMenu({ name, email, image, permissions = [] }: UserMenuProps) {
  const displayName = name.trim() || email;
  const adminSections = dashboardSectionsFor(permissions);
  // Notification settings live among the messaging pages, as does one's own data export.
  const canMessage = permissions.includes(PERMISSIONS.messagingAccess);
  const [open, setOpen] = useState(false);
  const exportDownload = useExportDownload();
  const exporting = exportDownload.pending !== null;

  return (
    <DropdownMenu open={open} onOpenChange={setOpen}>
      <DropdownMenuTrigger asChild>
        <Button variant="ghost" className="h-10 max-w-64 gap-2 px-2">
          <Avatar aria-hidden="true">
            {image && <AvatarImage src={image} alt="" />}
            <AvatarFallback className="text-xs">{initialsOf(name, email)}</AvatarFallback>
          </Avatar>
          <span className="sr-only">Account menu for </span>
          <span className="truncate max-sm:sr-only">{displayName}</span>
          <ChevronDownIcon className="text-muted-foreground" aria-hidden="true" />
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="end" className="w-64">
        <DropdownMenuLabel className="grid gap-0.5">
          <span className="truncate">{displayName}</span>
          <span className="text-muted-foreground truncate text-xs font-normal">{email}</span>
        </DropdownMenuLabel>
        <DropdownMenuSeparator />
        {adminSections.length > 0 && (
          <>
            {adminSections.map(({ key, href, menuLabel }) => {
              const Icon = SECTION_ICONS[key];
              return (
                <DropdownMenuItem key={key} asChild>
                  <Link href={href}>
                    <Icon aria-hidden="true" />
                    {menuLabel}
                  </Link>
                </DropdownMenuItem>
              );
            })}
            <DropdownMenuSeparator />
          </>
        )}
        {canMessage && (
          <>
            <DropdownMenuItem asChild>
              <Link href="/messages/settings">
                <BellIcon aria-hidden="true" />
                Notification settings
              </Link>
            </DropdownMenuItem>
            <DropdownMenuItem
              disabled={exporting}
              aria-busy={exporting}
              onSelect={(event) => {
                // The menu stays open, the item busy, until the file is saved or the refusal shown (a toast).
                event.preventDefault();
                void exportDownload.start(OWN_EXPORT_URL).then(() => setOpen(false));
              }}
            >
              {exporting ? <Loader2Icon className="animate-spin" aria-hidden="true" /> : <DownloadIcon aria-hidden="true" />}
              {exporting ? "Preparing your data…" : "Download my data"}
            </DropdownMenuItem>
            <DropdownMenuSeparator />
          </>
        )}
        <ThemeMenuGroup />
        <DropdownMenuSeparator />
        <DropdownMenuItem onSelect={() => void signOutToSignInPage()}>
          <LogOutIcon aria-hidden="true" />
          Sign out
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
