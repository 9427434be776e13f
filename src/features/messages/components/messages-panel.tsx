"use client";

import { useEffect, useRef, useState } from "react";
import Link from "next/link";
import { ArrowLeftIcon, MessageSquareIcon } from "lucide-react";
import { Badge } from "~/components/ui/badge";
import { Button } from "~/components/ui/button";
import { Sheet, SheetContent, SheetDescription, SheetHeader, SheetTitle, SheetTrigger } from "~/components/ui/sheet";
import { ConversationList } from "~/features/conversations/components/conversation-list";
import { NewConversationDialog } from "~/features/conversations/components/new-conversation-dialog";
import { useMessagingEvents } from "~/features/events/use-messaging-events";
import type { PublicMessagingSettings } from "~/features/settings/contracts";
import { usePublicSettings } from "~/features/settings/use-public-settings";
import { api } from "~/trpc/react";
import { useOutboxRunner } from "../outbox-client";
import { AlertSettings } from "./alert-settings";
import { ConversationView } from "./conversation-view";
import { useUnreadTitle } from "./use-unread-title";

/**
 * The header's message icon: a live unread badge, and a panel that slides in
 * with the conversations and the one you open, wherever you are in the app.
 */
export function MessagesPanelButton({ viewerId, initialSettings }: { viewerId: string; initialSettings: PublicMessagingSettings }) {
  const settings = usePublicSettings(initialSettings);
  const status = useMessagingEvents(viewerId);
  useOutboxRunner(viewerId, status === "live");
  const [open, setOpen] = useState(false);
  const [conversationId, setConversationId] = useState<string | null>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const returnTo = useRef<string | null>(null);
  // Back in the list, focus goes to the conversation just left (the Back button itself is gone).
  const backToList = () => {
    returnTo.current = conversationId;
    setConversationId(null);
  };
  useEffect(() => {
    if (conversationId !== null || !returnTo.current) return;
    const links = listRef.current?.querySelectorAll<HTMLAnchorElement>("a[href^='/messages/']") ?? [];
    const target = [...links].find((link) => link.getAttribute("href") === `/messages/${returnTo.current}`) ?? links[0];
    target?.focus();
    returnTo.current = null;
  }, [conversationId]);
  const unread = api.conversations.unreadCount.useQuery();
  const total = unread.data?.total ?? 0;
  useUnreadTitle(settings.enabled ? total : 0);

  // Turned off by an administrator while the page is open: the icon goes (and comes back when it is on again).
  if (!settings.enabled) return null;
  return (
    <Sheet open={open} onOpenChange={setOpen}>
      <SheetTrigger asChild>
        <Button variant="ghost" size="icon" className="relative" aria-label={total > 0 ? `Messages, ${total} unread` : "Messages"}>
          <MessageSquareIcon aria-hidden="true" />
          {total > 0 && (
            <Badge className="absolute -top-1 -right-1 h-5 min-w-5 px-1 text-[10px]" aria-hidden="true">
              {total > 99 ? "99+" : total}
            </Badge>
          )}
        </Button>
      </SheetTrigger>
      <SheetContent side="right" className="flex w-full flex-col gap-0 p-0 sm:max-w-md">
        <SheetHeader className="border-b">
          <div className="flex items-center gap-2 pr-8">
            {conversationId && (
              <Button variant="ghost" size="icon" className="size-8" aria-label="Back to conversations" onClick={backToList}>
                <ArrowLeftIcon aria-hidden="true" />
              </Button>
            )}
            <SheetTitle>Messages</SheetTitle>
            {status !== "live" && (
              <span role="status" className="text-muted-foreground text-xs">
                {status === "connecting" ? "Connecting…" : "Reconnecting…"}
              </span>
            )}
            <Link href="/messages" className="text-muted-foreground ml-auto text-xs underline-offset-4 hover:underline">
              Open full page
            </Link>
          </div>
          <SheetDescription className="sr-only">Your conversations</SheetDescription>
        </SheetHeader>
        {conversationId ? (
          <ConversationView
            key={conversationId}
            conversationId={conversationId}
            viewerId={viewerId}
            maxMessageLength={settings.maxMessageLength}
            onLeft={backToList}
          />
        ) : (
          <>
            <div className="flex items-center justify-between p-3">
              <AlertSettings />
              <NewConversationDialog onCreated={setConversationId} />
            </div>
            <div ref={listRef} className="min-h-0 flex-1 overflow-y-auto">
              <ConversationList viewerId={viewerId} onSelect={setConversationId} />
            </div>
          </>
        )}
      </SheetContent>
    </Sheet>
  );
}
