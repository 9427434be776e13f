"use client";

import type { MouseEvent, ReactNode } from "react";
import Link from "next/link";
import { conversationTitle } from "~/features/conversations/components/conversation-title";
import { PersonAvatar } from "~/features/conversations/components/people";
import type { Conversation } from "~/features/conversations/contracts";
import { messageHref } from "~/features/messages/message-link";
import { cn } from "~/lib/utils";
import type { MessageHit, SnippetSegment } from "../contracts";

// The rows of the search results: a matching conversation, and a matching message
// with its highlighted passage. Each is a link to where it opens; in the panel a
// click opens it in place instead.

/** Marks what the key handlers of the results move between. */
export const RESULT_SELECTOR = "[data-search-result]";

/** A passage with its matched words marked; every segment is drawn as text, never as markup. */
export function Snippet({ segments }: { segments: SnippetSegment[] }) {
  return (
    <>
      {segments.map((segment, index) =>
        segment.match ? (
          <mark key={index} className="rounded-sm bg-yellow-200 px-0.5 text-neutral-950">
            {segment.text}
          </mark>
        ) : (
          <span key={index}>{segment.text}</span>
        ),
      )}
    </>
  );
}

function ResultLink({
  href,
  active,
  onSelect,
  className,
  children,
}: {
  href: string;
  active?: boolean;
  onSelect?: () => void;
  className?: string;
  children: ReactNode;
}) {
  return (
    <Link
      href={href}
      data-search-result=""
      aria-current={active ? "page" : undefined}
      onClick={
        onSelect
          ? (event: MouseEvent) => {
              event.preventDefault();
              onSelect();
            }
          : undefined
      }
      className={cn(
        "hover:bg-accent focus-visible:bg-accent focus-visible:ring-ring/50 flex gap-3 px-3 py-2 outline-none focus-visible:ring-[3px] focus-visible:ring-inset",
        active && "bg-accent",
        className,
      )}
    >
      {children}
    </Link>
  );
}

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayThisYear = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const dayOtherYear = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const fullTime = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

/** Today's hits by time, older ones by day (the full moment is in the tooltip). */
function shortTime(date: Date): string {
  const now = new Date();
  if (date.toDateString() === now.toDateString()) return timeOfDay.format(date);
  return date.getFullYear() === now.getFullYear() ? dayThisYear.format(date) : dayOtherYear.format(date);
}

export function MessageHitRow({ hit, active, onSelect }: { hit: MessageHit; active: boolean; onSelect?: (hit: MessageHit) => void }) {
  const sender = hit.senderName ?? "Someone";
  return (
    <li>
      <ResultLink
        href={messageHref(hit.conversationId, hit)}
        active={active}
        onSelect={onSelect && (() => onSelect(hit))}
        className="items-start"
      >
        <PersonAvatar name={sender} image={hit.senderImage} className="mt-0.5 size-7" />
        <span className="grid min-w-0 flex-1 gap-0.5">
          <span className="flex items-baseline gap-2">
            <span className="truncate text-sm font-medium">{sender}</span>
            <time dateTime={hit.createdAt.toISOString()} title={fullTime.format(hit.createdAt)} className="text-muted-foreground ml-auto shrink-0 text-xs">
              {shortTime(hit.createdAt)}
            </time>
          </span>
          <span className="line-clamp-3 text-sm break-words">
            <Snippet segments={hit.snippet} />
          </span>
        </span>
      </ResultLink>
    </li>
  );
}

export function ConversationHitRow({
  conversation,
  viewerId,
  active,
  onSelect,
}: {
  conversation: Conversation;
  viewerId: string;
  active: boolean;
  onSelect?: (conversationId: string) => void;
}) {
  const title = conversationTitle(conversation, viewerId);
  const other = conversation.type === "DIRECT" ? conversation.participants.find((p) => p.id !== viewerId) : undefined;
  return (
    <li>
      <ResultLink href={`/messages/${conversation.id}`} active={active} onSelect={onSelect && (() => onSelect(conversation.id))} className="items-center">
        <PersonAvatar name={title} image={other?.image ?? null} className="size-8" />
        <span className="grid min-w-0 flex-1">
          <span className="truncate text-sm font-medium">{title}</span>
          {conversation.type === "GROUP" && (
            <span className="text-muted-foreground text-xs">{conversation.participants.length} members</span>
          )}
        </span>
      </ResultLink>
    </li>
  );
}
