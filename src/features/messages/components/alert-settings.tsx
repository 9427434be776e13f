"use client";

import { Volume2Icon, VolumeOffIcon } from "lucide-react";
import { toast } from "sonner";
import { Button } from "~/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuCheckboxItem,
  DropdownMenuContent,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "~/components/ui/dropdown-menu";
import { enableDesktopNotifications, setAlertPreferences, useAlertPreferences } from "../incoming-alerts";

/** Where someone turns on browser notifications and the new-message sound; the browser asks only after this click. */
export function AlertSettings() {
  const preferences = useAlertPreferences();
  const on = preferences.desktop || preferences.sound;
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button variant="ghost" size="icon" aria-label="Message alerts">
          {/* Not a bell: the bell is the notification centre beside it. */}
          {on ? <Volume2Icon aria-hidden="true" /> : <VolumeOffIcon aria-hidden="true" />}
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="end" className="w-64">
        <DropdownMenuLabel>Alerts for new messages</DropdownMenuLabel>
        <DropdownMenuSeparator />
        <DropdownMenuCheckboxItem
          checked={preferences.desktop}
          onCheckedChange={async (checked) => {
            if (!checked) return setAlertPreferences({ desktop: false });
            const permission = await enableDesktopNotifications();
            if (permission === "unsupported") toast.error("This browser does not show notifications.");
            else if (permission !== "granted") toast.error("Notifications are blocked for this site in your browser settings.");
          }}
        >
          Desktop notifications
        </DropdownMenuCheckboxItem>
        <DropdownMenuCheckboxItem checked={preferences.sound} onCheckedChange={(checked) => setAlertPreferences({ sound: checked })}>
          Play a sound
        </DropdownMenuCheckboxItem>
        <p className="text-muted-foreground px-2 py-1.5 text-xs">Only for conversations you are not looking at and have not muted.</p>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
