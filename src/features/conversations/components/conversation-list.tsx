"use client";

import { useMemo, type KeyboardEvent } from "react";
import Link from "next/link";
import { keepPreviousData } from "@tanstack/react-query";
import { BellOffIcon } from "lucide-react";
import { Badge } from "~/components/ui/badge";
import { Skeleton } from "~/components/ui/skeleton";
import { useLivePresence } from "~/features/events/live-state";
import { fullTime, timeAgo, useMinuteClock } from "~/lib/relative-time";
import { cn } from "~/lib/utils";
import { api } from "~/trpc/react";
import type { Conversation } from "../contracts";
import { conversationTitle } from "./conversation-title";
import { PersonAvatar } from "./people";

type PresenceStatus = "online" | "away" | "offline";

const PRESENCE_LABEL: Record<PresenceStatus, string> = { online: "Online", away: "Away", offline: "Offline" };

function otherParticipant(conversation: Conversation, viewerId: string) {
  return conversation.type === "DIRECT" ? conversation.participants.find((p) => p.id !== viewerId) : undefined;
}

export const ROW_SELECTOR = "[data-conversation-row]";

/** Arrow keys move between rows (the elements `selector` finds), Home and End go to the first and the last. */
export function moveFocus(container: HTMLElement, key: string, selector = ROW_SELECTOR): boolean {
  const rows = [...container.querySelectorAll<HTMLElement>(selector)];
  if (rows.length === 0) return false;
  const current = rows.findIndex((row) => row === document.activeElement);
  let next: number;
  switch (key) {
    case "ArrowDown":
      next = current < 0 ? 0 : Math.min(current + 1, rows.length - 1);
      break;
    case "ArrowUp":
      next = current < 0 ? rows.length - 1 : Math.max(current - 1, 0);
      break;
    case "Home":
      next = 0;
      break;
    case "End":
      next = rows.length - 1;
      break;
    default:
      return false;
  }
  rows[next]?.focus();
  return true;
}

/**
 * The viewer's conversations, newest activity first (finding one by name is the
 * message search's job, which shows matching conversations too). Each row links to
 * the conversation's page, or, given `onSelect`, opens it in place (the panel).
 */
export function ConversationList({
  viewerId,
  activeId,
  onSelect,
}: {
  viewerId: string;
  activeId?: string;
  onSelect?: (conversationId: string) => void;
}) {
  const now = useMinuteClock();
  const conversations = api.conversations.list.useQuery({ limit: 50 });
  const shown = conversations.data?.items;

  // Everyone's presence in one request; live changes arrive over the event stream.
  const partnerIds = useMemo(() => {
    const ids = new Set<string>();
    for (const conversation of shown ?? []) {
      const other = otherParticipant(conversation, viewerId);
      if (other) ids.add(other.id);
    }
    return [...ids].sort();
  }, [shown, viewerId]);
  const presence = api.presence.get.useQuery(
    { userIds: partnerIds },
    { enabled: partnerIds.length > 0, placeholderData: keepPreviousData },
  );
  const initialPresence = useMemo(
    () => new Map((presence.data ?? []).map((entry) => [entry.userId, entry.status] as const)),
    [presence.data],
  );

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
    <ul
      className="grid grid-cols-[minmax(0,1fr)]"
      aria-label="Conversations"
      onKeyDown={(event: KeyboardEvent<HTMLUListElement>) => {
        if (moveFocus(event.currentTarget, event.key)) event.preventDefault();
      }}
    >
      {conversations.data.items.map((conversation) => {
        const other = otherParticipant(conversation, viewerId);
        return (
          <ConversationRow
            key={conversation.id}
            conversation={conversation}
            viewerId={viewerId}
            active={conversation.id === activeId}
            now={now}
            initialStatus={other ? initialPresence.get(other.id) : undefined}
            onSelect={onSelect}
          />
        );
      })}
    </ul>
  );
}

function PresenceDot({ status }: { status: PresenceStatus }) {
  return (
    <span
      role="img"
      aria-label={PRESENCE_LABEL[status]}
      className={cn(
        "ring-background absolute right-0 bottom-0 size-2.5 rounded-full ring-2",
        status === "online" ? "bg-emerald-500" : status === "away" ? "bg-amber-500" : "bg-muted-foreground/60",
      )}
    />
  );
}

function ConversationRow({
  conversation,
  viewerId,
  active,
  now,
  initialStatus,
  onSelect,
}: {
  conversation: Conversation;
  viewerId: string;
  active: boolean;
  now: number;
  initialStatus: PresenceStatus | undefined;
  onSelect?: (conversationId: string) => void;
}) {
  const title = conversationTitle(conversation, viewerId);
  const other = otherParticipant(conversation, viewerId);
  const live = useLivePresence(other?.id);
  const status = other ? (live?.status ?? initialStatus) : undefined;
  const { lastMessageAt } = conversation;

  return (
    <li>
      <Link
        href={`/messages/${conversation.id}`}
        data-conversation-row=""
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
          "hover:bg-accent focus-visible:bg-accent focus-visible:ring-ring/50 flex items-center gap-3 px-3 py-2.5 outline-none focus-visible:ring-[3px] focus-visible:ring-inset",
          active && "bg-accent",
        )}
      >
        <span className="relative shrink-0">
          <PersonAvatar name={title} image={other?.image ?? null} className="size-10" />
          {status && <PresenceDot status={status} />}
        </span>
        <span className="grid min-w-0 flex-1 grid-cols-[minmax(0,1fr)]">
          <span className="flex items-center gap-2">
            <span className={cn("truncate", conversation.unreadCount > 0 ? "font-semibold" : "font-medium")}>{title}</span>
            {conversation.muted && (
              <BellOffIcon className="text-muted-foreground size-3.5 shrink-0" role="img" aria-label="Muted" />
            )}
            {lastMessageAt && now > 0 && (
              <time
                dateTime={lastMessageAt.toISOString()}
                title={fullTime.format(lastMessageAt)}
                className="text-muted-foreground ml-auto shrink-0 text-xs"
              >
                {timeAgo(lastMessageAt, now)}
              </time>
            )}
          </span>
          <span className="flex items-center gap-2">
            <span className="text-muted-foreground truncate text-sm">{conversation.lastMessage?.preview ?? "No messages yet"}</span>
            {conversation.unreadCount > 0 && (
              <Badge className="ml-auto shrink-0" role="img" aria-label={`${conversation.unreadCount} unread`}>
                {conversation.unreadCount > 99 ? "99+" : conversation.unreadCount}
              </Badge>
            )}
          </span>
        </span>
      </Link>
    </li>
  );
}
