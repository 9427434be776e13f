"use client";

import { ChevronDownIcon, LogOutIcon } from "lucide-react";

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
import { signOutToSignInPage } from "./sign-out-button";

type UserMenuProps = {
  name: string;
  email: string;
  image: string | null;
};

function initialsOf(name: string, email: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 0 ? words.slice(0, 2).map((word) => word[0]) : [email[0]];
  return letters.join("").toUpperCase() || "?";
}

export function UserMenu({ name, email, image }: UserMenuProps) {
  const displayName = name.trim() || email;

  return (
    <DropdownMenu>
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
