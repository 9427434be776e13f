"use client";

import Link from "next/link";
import { BellOffIcon } from "lucide-react";
import { Avatar, AvatarFallback } from "~/components/ui/avatar";
import { Badge } from "~/components/ui/badge";
import { Skeleton } from "~/components/ui/skeleton";
import { cn } from "~/lib/utils";
import { api } from "~/trpc/react";
import { conversationTitle, initialsOf } from "./conversation-title";

const relativeTime = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });

function timeAgo(date: Date): string {
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  if (Math.abs(seconds) < 60) return "now";
  const minutes = Math.round(seconds / 60);
  if (Math.abs(minutes) < 60) return relativeTime.format(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 24) return relativeTime.format(hours, "hour");
  return date.toLocaleDateString();
}

/** Each row links to the conversation's page, or, given `onSelect`, opens it in place (the panel). */
export function ConversationList({
  viewerId,
  activeId,
  onSelect,
}: {
  viewerId: string;
  activeId?: string;
  onSelect?: (conversationId: string) => void;
}) {
  const conversations = api.conversations.list.useQuery({ limit: 50 });

  if (conversations.isPending) {
    return (
      <div className="grid gap-3 p-3" aria-busy="true" aria-label="Loading conversations">
        {Array.from({ length: 4 }, (_, i) => (
          <Skeleton key={i} className="h-14 w-full" />
        ))}
      </div>
    );
  }
  if (conversations.isError) {
    return <p className="text-destructive p-4 text-sm">Conversations could not be loaded: {conversations.error.message}</p>;
  }
  if (conversations.data.items.length === 0) {
    return <p className="text-muted-foreground p-4 text-sm">No conversations yet. Start one with “New conversation”.</p>;
  }

  return (
    <ul className="grid grid-cols-[minmax(0,1fr)]" aria-label="Conversations">
      {conversations.data.items.map((conversation) => {
        const title = conversationTitle(conversation, viewerId);
        const active = conversation.id === activeId;
        return (
          <li key={conversation.id}>
            <Link
              href={`/messages/${conversation.id}`}
              onClick={
                onSelect
                  ? (event) => {
                      event.preventDefault();
                      onSelect(conversation.id);
                    }
                  : undefined
              }
              aria-current={active ? "page" : undefined}
              className={cn(
                "hover:bg-accent focus-visible:bg-accent flex items-center gap-3 px-3 py-2.5 outline-none",
                active && "bg-accent",
              )}
            >
              <Avatar aria-hidden="true">
                <AvatarFallback className="text-xs">{initialsOf(title)}</AvatarFallback>
              </Avatar>
              <span className="grid min-w-0 flex-1 grid-cols-[minmax(0,1fr)]">
                <span className="flex items-center gap-2">
                  <span className="truncate font-medium">{title}</span>
                  {conversation.muted && <BellOffIcon className="text-muted-foreground size-3.5" aria-label="Muted" />}
                  {conversation.lastMessageAt && (
                    <span className="text-muted-foreground ml-auto shrink-0 text-xs">{timeAgo(conversation.lastMessageAt)}</span>
                  )}
                </span>
                <span className="flex items-center gap-2">
                  <span className="text-muted-foreground truncate text-sm">{conversation.lastMessage?.preview ?? "No messages yet"}</span>
                  {conversation.unreadCount > 0 && (
                    <Badge className="ml-auto shrink-0" aria-label={`${conversation.unreadCount} unread`}>
                      {conversation.unreadCount}
                    </Badge>
                  )}
                </span>
              </span>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
