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
import { useViewingReport } from "~/features/presence/use-viewing-report";
import { escapeBelongsToSearch, MessageSearch } from "~/features/search/components/message-search";
import type { MessageHit } from "~/features/search/contracts";
import { EMPTY_SEARCH } from "~/features/search/search-query";
import type { PublicMessagingSettings } from "~/features/settings/contracts";
import { usePublicSettings } from "~/features/settings/use-public-settings";
import { api } from "~/trpc/react";
import { messageHref, type MessageTarget } from "../message-link";
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
  useViewingReport();
  useOutboxRunner(viewerId, status === "live");
  const [open, setOpen] = useState(false);
  const [conversationId, setConversationId] = useState<string | null>(null);
  const [target, setTarget] = useState<MessageTarget | undefined>(undefined);
  // The search stays as it was while a result is open, so Back returns to the results.
  const [search, setSearch] = useState(EMPTY_SEARCH);
  const [searchScopeId, setSearchScopeId] = useState<string | undefined>(undefined);
  const listRef = useRef<HTMLDivElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  /** The link the open conversation came from: a row or a search result. */
  const openedFrom = useRef<string | null>(null);
  /** Where focus goes once the list is back: that link, or the search field. */
  const returnTo = useRef<string | "search" | null>(null);
  const openConversation = (id: string, at?: MessageTarget, from?: string) => {
    openedFrom.current = from ?? `/messages/${id}`;
    setConversationId(id);
    setTarget(at);
  };
  const openHit = (hit: MessageHit) => {
    const at = { messageId: hit.messageId, seq: hit.seq };
    openConversation(hit.conversationId, at, messageHref(hit.conversationId, at));
  };
  // Back in the list, focus goes to the link just left (the Back button itself is gone).
  const backToList = () => {
    returnTo.current = openedFrom.current ?? `/messages/${conversationId}`;
    setConversationId(null);
    setTarget(undefined);
  };
  const searchThisConversation = () => {
    setSearchScopeId(conversationId ?? undefined);
    setSearch((state) => ({ ...state, inConversation: true }));
    returnTo.current = "search";
    setConversationId(null);
    setTarget(undefined);
  };
  useEffect(() => {
    if (conversationId !== null || !returnTo.current) return;
    if (returnTo.current === "search") {
      searchRef.current?.focus();
    } else {
      const links = listRef.current?.querySelectorAll<HTMLAnchorElement>("a[href^='/messages/']") ?? [];
      const wanted = returnTo.current;
      const link = [...links].find((candidate) => candidate.getAttribute("href") === wanted) ?? links[0];
      link?.focus();
    }
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
        {/* data-stream: whether the live stream is up (what follows it live, tests wait on). */}
        <Button
          variant="ghost"
          size="icon"
          className="relative"
          data-stream={status}
          aria-label={total > 0 ? `Messages, ${total} unread` : "Messages"}
        >
          <MessageSquareIcon aria-hidden="true" />
          {total > 0 && (
            <Badge className="absolute -top-1 -right-1 h-5 min-w-5 px-1 text-[10px]" aria-hidden="true">
              {total > 99 ? "99+" : total}
            </Badge>
          )}
        </Button>
      </SheetTrigger>
      <SheetContent
        side="right"
        className="flex w-full flex-col gap-0 p-0 sm:max-w-md"
        onEscapeKeyDown={(event) => {
          if (escapeBelongsToSearch(event) || (event.target instanceof Element && event.target.closest("[data-handles-escape]"))) {
            event.preventDefault();
          }
        }}
      >
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
            attachmentSettings={settings}
            onLeft={backToList}
            target={target}
            onSearch={searchThisConversation}
          />
        ) : (
          <>
            <div className="flex items-center justify-between p-3">
              <AlertSettings />
              <NewConversationDialog onCreated={(id) => openConversation(id)} />
            </div>
            <div ref={listRef} className="flex min-h-0 flex-1 flex-col">
              <MessageSearch
                viewerId={viewerId}
                state={search}
                onStateChange={setSearch}
                scopeConversationId={searchScopeId}
                actions={{ onOpenMessage: openHit, onOpenConversation: (id) => openConversation(id) }}
                inputRef={searchRef}
              >
                <ConversationList viewerId={viewerId} onSelect={(id) => openConversation(id)} />
              </MessageSearch>
            </div>
          </>
        )}
      </SheetContent>
    </Sheet>
  );
}
