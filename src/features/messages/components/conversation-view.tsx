"use client";

import { useEffect, useRef } from "react";
import { Skeleton } from "~/components/ui/skeleton";
import { conversationTitle } from "~/features/conversations/components/conversation-title";
import { useLivePresence, useTypingUsers } from "~/features/events/live-state";
import { LATEST_PAGE } from "~/features/events/use-messaging-events";
import { cn } from "~/lib/utils";
import { api } from "~/trpc/react";
import { MessageBubble } from "./message-bubble";
import { MessageInput } from "./message-input";

function TypingIndicator({ names }: { names: string[] }) {
  const text =
    names.length === 0
      ? ""
      : names.length === 1
        ? `${names[0]} is typing…`
        : names.length === 2
          ? `${names[0]} and ${names[1]} are typing…`
          : `${names.length} people are typing…`;
  return (
    <p className="text-muted-foreground h-5 px-4 text-xs" aria-live="polite">
      {text}
    </p>
  );
}

const lastSeenFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function PresenceLine({ userId }: { userId: string }) {
  const initial = api.presence.get.useQuery({ userIds: [userId] });
  const live = useLivePresence(userId);
  const presence = live ?? initial.data?.[0];
  if (!presence) return null;
  const label =
    presence.status === "online"
      ? "Online"
      : presence.status === "away"
        ? "Away"
        : presence.lastSeenAt
          ? `Last seen ${lastSeenFormat.format(presence.lastSeenAt)}`
          : "Offline";
  return (
    <span className="text-muted-foreground ml-2 flex items-center gap-1.5 text-sm">
      <span
        aria-hidden="true"
        className={cn(
          "size-2 rounded-full",
          presence.status === "online" ? "bg-emerald-500" : presence.status === "away" ? "bg-amber-500" : "bg-muted-foreground/40",
        )}
      />
      {label}
    </span>
  );
}

export function ConversationView({ conversationId, viewerId, maxMessageLength }: { conversationId: string; viewerId: string; maxMessageLength: number }) {
  const conversation = api.conversations.get.useQuery({ conversationId });
  const messages = api.messages.list.useQuery({ conversationId, limit: LATEST_PAGE });
  const markAsRead = api.conversations.markAsRead.useMutation();
  const utils = api.useUtils();
  const bottom = useRef<HTMLDivElement>(null);
  const items = messages.data?.items ?? [];
  const typingIds = useTypingUsers(conversationId);
  const typingNames = typingIds
    .filter((id) => id !== viewerId)
    .map((id) => conversation.data?.participants.find((p) => p.id === id)?.name ?? "Someone");
  const newestSeq = items[items.length - 1]?.seq ?? 0;

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [newestSeq]);

  // What is on screen in a focused window counts as read.
  useEffect(() => {
    if (!newestSeq || !conversation.data || newestSeq <= conversation.data.lastReadSeq) return;
    if (typeof document !== "undefined" && !document.hasFocus()) return;
    markAsRead.mutate(
      { conversationId, upToSeq: newestSeq },
      { onSuccess: () => void utils.conversations.invalidate() },
    );
    // markAsRead and utils are stable; the position is what matters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [conversationId, newestSeq, conversation.data?.lastReadSeq]);

  if (conversation.isError) {
    return <p className="text-destructive p-6">{conversation.error.message}</p>;
  }
  const title = conversation.data ? conversationTitle(conversation.data, viewerId) : "";
  const isGroup = conversation.data?.type === "GROUP";
  const other = !isGroup ? conversation.data?.participants.find((p) => p.id !== viewerId) : undefined;

  return (
    <section className="flex min-h-0 flex-1 flex-col" aria-label={title ? `Conversation with ${title}` : "Conversation"}>
      <header className="flex h-14 items-center border-b px-4">
        {conversation.data ? (
          <h1 className="truncate font-semibold">{title}</h1>
        ) : (
          <Skeleton className="h-5 w-40" />
        )}
        {isGroup && (
          <span className="text-muted-foreground ml-2 text-sm">{conversation.data?.participants.length} members</span>
        )}
        {other && <PresenceLine userId={other.id} />}
      </header>
      <div className="min-h-0 flex-1 overflow-y-auto p-4">
        {messages.isPending ? (
          <div className="grid gap-3" aria-busy="true" aria-label="Loading messages">
            <Skeleton className="h-10 w-1/2" />
            <Skeleton className="ml-auto h-10 w-1/3" />
          </div>
        ) : items.length === 0 ? (
          <p className="text-muted-foreground text-center text-sm">No messages yet. Say hello.</p>
        ) : (
          <ol className="grid gap-2" aria-label="Messages" aria-live="polite">
            {items.map((message, index) => (
              <MessageBubble
                key={message.id}
                message={message}
                own={message.senderId === viewerId}
                viewerId={viewerId}
                showSender={isGroup && items[index - 1]?.senderId !== message.senderId}
              />
            ))}
          </ol>
        )}
        <div ref={bottom} />
      </div>
      <TypingIndicator names={typingNames} />
      <MessageInput conversationId={conversationId} maxLength={maxMessageLength} />
    </section>
  );
}
