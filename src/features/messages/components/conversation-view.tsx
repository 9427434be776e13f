"use client";

import { useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import Link from "next/link";
import { ArrowDownIcon, ArrowLeftIcon, SearchIcon } from "lucide-react";
import { toast } from "sonner";
import { Button } from "~/components/ui/button";
import { Skeleton } from "~/components/ui/skeleton";
import { attachmentsOf } from "~/features/attachments/contracts";
import { DropOverlay } from "~/features/attachments/components/drop-overlay";
import type { AttachmentSettings } from "~/features/attachments/file-acceptance";
import { summarizeAttachments } from "~/features/attachments/file-labels";
import { useFileDrop } from "~/features/attachments/use-file-drop";
import { attachFiles, pendingUploadsOf } from "~/features/attachments/use-pending-uploads";
import { ConversationMenu } from "~/features/conversations/components/conversation-menu";
import { conversationTitle } from "~/features/conversations/components/conversation-title";
import { refreshConversations } from "~/features/conversations/conversation-refresh";
import type { Conversation } from "~/features/conversations/contracts";
import { useLivePresence, useTypingUsers } from "~/features/events/live-state";
import { cn } from "~/lib/utils";
import { api } from "~/trpc/react";
import type { Message } from "../contracts";
import { setOpenConversation } from "../incoming-alerts";
import type { MessageTarget } from "../message-link";
import { seenBy, seenByLabel, STATUS_LABELS, statusOfOwnMessage } from "../message-status";
import { useOutboxActions, useOutboxEntries } from "../outbox-client";
import type { OutboxEntry } from "../outbox";
import { buildRows, firstUnreadSeq, prependOlder, upsertLive, type TimelineRow } from "../timeline";
import { PAGE_SIZE, patchTimeline } from "../timeline-cache";
import { MessageBubble, PendingBubble } from "./message-bubble";
import { MessageInput } from "./message-input";
import { useConversationTimeline, type ScrollRequest } from "./use-conversation-timeline";

/** Closer than this to the bottom counts as "at the bottom": new messages keep it there. */
const STICK_TO_BOTTOM_PX = 80;
/** Start loading the previous page this close to the top (and the next one of a window this close to the bottom). */
const LOAD_OLDER_PX = 400;
const LOAD_NEWER_PX = 400;

type ViewRow = TimelineRow | { kind: "pending"; key: string; entry: OutboxEntry };

function typingText(names: string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

function TypingIndicator({ names }: { names: string[] }) {
  const text = typingText(names);
  return (
    <div className="text-muted-foreground flex h-5 items-center gap-1.5 px-4 text-xs" aria-live="polite">
      {text && (
        <span className="flex gap-0.5" aria-hidden="true">
          {[0, 150, 300].map((delay) => (
            <span key={delay} className="bg-muted-foreground/70 size-1 animate-bounce rounded-full" style={{ animationDelay: `${delay}ms` }} />
          ))}
        </span>
      )}
      {text}
    </div>
  );
}

const lastSeenFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "long", day: "numeric" });
const dayWithYearFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });

function dayLabel(date: Date): string {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (date.toDateString() === today.toDateString()) return "Today";
  if (date.toDateString() === yesterday.toDateString()) return "Yesterday";
  return date.getFullYear() === today.getFullYear() ? dayFormat.format(date) : dayWithYearFormat.format(date);
}

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
    <span className="text-muted-foreground flex items-center gap-1.5 text-xs">
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

function subscribeToFocus(listener: () => void) {
  window.addEventListener("focus", listener);
  window.addEventListener("blur", listener);
  document.addEventListener("visibilitychange", listener);
  return () => {
    window.removeEventListener("focus", listener);
    window.removeEventListener("blur", listener);
    document.removeEventListener("visibilitychange", listener);
  };
}

/** Whether the person is looking at this window: only then does what is on screen count as read. */
function useWindowFocused(): boolean {
  return useSyncExternalStore(
    subscribeToFocus,
    () => document.visibilityState === "visible" && document.hasFocus(),
    () => false,
  );
}

/** The newest own message's status line: "Read", "Delivered", "Sent", or in groups "Seen by …". */
function ownStatusLine(message: Message, conversation: Conversation, viewerId: string): string {
  const status = statusOfOwnMessage(message.seq, conversation.positions, viewerId);
  if (conversation.type === "GROUP") {
    const label = seenByLabel(seenBy(message.seq, conversation.positions, conversation.participants, viewerId), conversation.participants.length);
    if (label) return label;
  }
  return STATUS_LABELS[status];
}

/** The row of the message to open at; if it is gone, the first one after where it was, or the last. */
function rowIndexOf(rows: ViewRow[], target: MessageTarget): number {
  const exact = rows.findIndex((row) => row.kind === "message" && row.message.id === target.messageId);
  if (exact >= 0) return exact;
  const after = rows.findIndex((row) => row.kind === "message" && row.message.seq >= target.seq);
  return after >= 0 ? after : rows.length - 1;
}

export function ConversationView({
  conversationId,
  viewerId,
  maxMessageLength,
  attachmentSettings,
  onLeft,
  backHref,
  target,
  onSearch,
}: {
  conversationId: string;
  viewerId: string;
  maxMessageLength: number;
  /** Whether files may be attached, and which (the public messaging settings). */
  attachmentSettings: AttachmentSettings;
  /** Where to go once the viewer has left this conversation. */
  onLeft: () => void;
  /** On narrow screens, where the list is a screen of its own: the way back to it. */
  backHref?: string;
  /** Open at this message (a search result) instead of the first unread. */
  target?: MessageTarget;
  /** Offers a search of this conversation's messages. */
  onSearch?: () => void;
}) {
  const utils = api.useUtils();
  const queryClient = useQueryClient();
  const conversation = api.conversations.get.useQuery({ conversationId });
  const windowing = useConversationTimeline(conversationId, target);
  const { timeline } = windowing;
  const markAsRead = api.conversations.markAsRead.useMutation({
    onSuccess: () => refreshConversations(queryClient),
    // Offline or refused: let the next look at the messages try again.
    onError: () => {
      readRequested.current = 0;
    },
  });
  const readRequested = useRef(0);
  const pendingEntries = useOutboxEntries(viewerId, conversationId);
  const outbox = useOutboxActions(viewerId);
  const focused = useWindowFocused();
  const items = useMemo(() => timeline.data?.items ?? [], [timeline.data]);
  const [edit, setEdit] = useState<{ messageId: string; draft: string } | null>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  // Files dropped anywhere on the conversation go to its composer.
  const fileDrop = useFileDrop((files, folders) => {
    if (!attachmentSettings.allowFileAttachments) return void toast.error("File attachments are turned off by an administrator.");
    if (folders.length > 0) toast.error(`Folders can't be attached: ${folders.join(", ")}. Attach the files in them instead.`);
    attachFiles(pendingUploadsOf(viewerId, conversationId), files, attachmentSettings, "dropped");
    inputRef.current?.focus();
  });

  // The "new messages" divider stays where the reader's position was when they opened the
  // conversation; it moves further up only as older pages load.
  const [opened, setOpened] = useState<{ lastReadSeq: number; newestSeq: number } | null>(null);
  if (opened === null && conversation.data && timeline.data && !windowing.awaitingWindow) {
    const { items: loaded, hasMoreAfter } = timeline.data;
    const newestLoaded = loaded[loaded.length - 1]?.seq ?? 0;
    // A window stops short of the newest: what paging down brings later is not "new" either.
    const newestSeq = hasMoreAfter ? Math.max(newestLoaded, conversation.data.lastSeq) : newestLoaded;
    setOpened({ lastReadSeq: conversation.data.lastReadSeq, newestSeq });
  }
  // Messages that arrive while the conversation is open are not "new" to the reader.
  const dividerSeq = useMemo(
    () => (opened ? firstUnreadSeq(items.filter((item) => item.seq <= opened.newestSeq), opened.lastReadSeq, viewerId) : null),
    [items, opened, viewerId],
  );

  const rows = useMemo<ViewRow[]>(() => {
    const sent = new Set(items.filter((item) => item.senderId === viewerId).map((item) => item.clientMessageId));
    const pending = pendingEntries
      .filter((entry) => !sent.has(entry.clientMessageId))
      .map((entry) => ({ kind: "pending" as const, key: `pending-${entry.clientMessageId}`, entry }));
    return [...buildRows(items, dividerSeq), ...pending];
  }, [items, pendingEntries, dividerSeq, viewerId]);

  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read during render by design
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => (rows[index]?.kind === "message" || rows[index]?.kind === "pending" ? 64 : 40),
    getItemKey: (index) => rows[index]!.key,
    overscan: 10,
  });

  // Scroll state lives in refs: it changes on every scroll event and only event handlers and layout effects read it.
  const atBottom = useRef(true);
  const [showJump, setShowJump] = useState(false);
  const [seenUpToSeq, setSeenUpToSeq] = useState(0);
  const initialScrollDone = useRef(false);
  const followedRowKey = useRef<string | undefined>(undefined);
  const olderLoad = useRef<{ loading: boolean; anchor?: { top: number; total: number } }>({ loading: false });
  const newestSeq = items[items.length - 1]?.seq ?? 0;
  const lastRowKey = rows[rows.length - 1]?.key;
  const windowed = timeline.data?.hasMoreAfter ?? false;

  // A message that arrived while the page was loading had no cache entry to go into:
  // the conversation's lastSeq shows it, and the messages after the newest held are fetched.
  const catchingUp = useRef(false);
  const serverLastSeq = conversation.data?.lastSeq ?? 0;
  // A window is not caught up: paging down brings what follows it.
  useEffect(() => {
    if (!timeline.data || windowed || serverLastSeq <= newestSeq || catchingUp.current) return;
    catchingUp.current = true;
    utils.client.messages.list
      .query({ conversationId, afterSeq: newestSeq, limit: 100 })
      .then((newer) => patchTimeline(utils, conversationId, (held) => newer.items.reduce(upsertLive, held)))
      .catch(() => undefined)
      .finally(() => {
        catchingUp.current = false;
      });
  }, [conversationId, newestSeq, serverLastSeq, timeline.data, windowed, utils]);

  useEffect(() => {
    setOpenConversation(conversationId);
    return () => setOpenConversation(null);
  }, [conversationId]);

  // Focus lands in the composer when a conversation opens (not on touch screens, where it would raise the keyboard).
  useEffect(() => {
    if (window.matchMedia("(pointer: fine)").matches) inputRef.current?.focus();
  }, [conversationId]);

  // First paint of the messages: jump to the first unread, or to the newest (a message to open at scrolls below).
  useLayoutEffect(() => {
    if (initialScrollDone.current || !opened || rows.length === 0 || windowing.opensAtMessage) return;
    initialScrollDone.current = true;
    followedRowKey.current = rows[rows.length - 1]!.key;
    const unreadIndex = rows.findIndex((row) => row.kind === "unread");
    if (unreadIndex > 0) virtualizer.scrollToIndex(unreadIndex, { align: "start" });
    else virtualizer.scrollToIndex(rows.length - 1, { align: "end" });
  }, [opened, rows, virtualizer, windowing.opensAtMessage]);

  // A message to open at, or the bottom after "Jump to latest": once the rows hold it.
  const handledScroll = useRef<ScrollRequest | null>(null);
  useLayoutEffect(() => {
    const request = windowing.scrollRequest;
    if (!request || request === handledScroll.current || rows.length === 0) return;
    const index = request.to === "bottom" ? (windowed ? -1 : rows.length - 1) : rowIndexOf(rows, request);
    if (index < 0) return;
    handledScroll.current = request;
    initialScrollDone.current = true;
    olderLoad.current.anchor = undefined;
    followedRowKey.current = rows[rows.length - 1]!.key;
    virtualizer.scrollToIndex(index, { align: request.to === "bottom" ? "end" : "center" });
  }, [windowing.scrollRequest, rows, windowed, virtualizer]);

  // A new row at the end: follow it if the reader was at the bottom or it is their own.
  // Not at the end of a window: rows come there from paging down, below the reader.
  const windowedBefore = useRef(windowed);
  useLayoutEffect(() => {
    if (!initialScrollDone.current || rows.length === 0 || lastRowKey === followedRowKey.current) return;
    followedRowKey.current = lastRowKey;
    if (windowedBefore.current) return;
    const last = rows[rows.length - 1]!;
    const own = last.kind === "pending" || (last.kind === "message" && last.message.senderId === viewerId);
    if (atBottom.current || own) virtualizer.scrollToIndex(rows.length - 1, { align: "end" });
    // Only the identity of the last row matters here.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lastRowKey]);
  // After the effect above, which needs the state before this render.
  useLayoutEffect(() => {
    windowedBefore.current = windowed;
  }, [windowed]);

  // An older page went in front: keep the messages the reader was looking at where they were.
  useLayoutEffect(() => {
    const anchor = olderLoad.current.anchor;
    const element = scrollRef.current;
    if (!anchor || !element) return;
    olderLoad.current.anchor = undefined;
    element.scrollTop = anchor.top + (virtualizer.getTotalSize() - anchor.total);
  }, [items, virtualizer]);

  const loadOlder = async () => {
    const oldest = items[0];
    if (!oldest || !timeline.data?.hasMoreBefore || olderLoad.current.loading) return;
    olderLoad.current.loading = true;
    try {
      const older = await utils.client.messages.list.query({ conversationId, beforeSeq: oldest.seq, limit: PAGE_SIZE });
      patchTimeline(utils, conversationId, (held) => {
        const extended = prependOlder(held, older, oldest.seq);
        // Only a page that went in front moves what the reader looks at (one for a timeline that jumped elsewhere is dropped).
        if (extended !== held) olderLoad.current.anchor = { top: scrollRef.current?.scrollTop ?? 0, total: virtualizer.getTotalSize() };
        return extended;
      });
    } catch (error) {
      toast.error(`Older messages could not be loaded: ${(error as Error).message}`);
    } finally {
      olderLoad.current.loading = false;
    }
  };

  const onScroll = () => {
    const element = scrollRef.current;
    // While the messages around a search result load, what is held is not where the reader is going.
    if (!element || windowing.awaitingWindow) return;
    const fromBottom = element.scrollHeight - element.scrollTop - element.clientHeight;
    // The end of a window is not the bottom: new messages are not there.
    atBottom.current = fromBottom < STICK_TO_BOTTOM_PX && !windowed;
    setShowJump(!atBottom.current);
    if (atBottom.current) setSeenUpToSeq(newestSeq);
    if (element.scrollTop < LOAD_OLDER_PX) void loadOlder();
    if (windowed && fromBottom < LOAD_NEWER_PX) void windowing.loadNewer();
  };

  // What is on screen in a focused window counts as read.
  const visibleNewestSeq = (() => {
    const range = virtualizer.range;
    if (!range) return 0;
    let newest = 0;
    for (let index = range.startIndex; index <= range.endIndex; index += 1) {
      const row = rows[index];
      if (row?.kind === "message") newest = Math.max(newest, row.message.seq);
    }
    return newest;
  })();
  const lastReadSeq = conversation.data?.lastReadSeq ?? 0;
  useEffect(() => {
    if (!focused || !conversation.data || visibleNewestSeq <= lastReadSeq || visibleNewestSeq <= readRequested.current) return;
    readRequested.current = visibleNewestSeq;
    markAsRead.mutate({ conversationId, upToSeq: visibleNewestSeq });
    // markAsRead is stable in what it does; the positions are what matter.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focused, visibleNewestSeq, lastReadSeq, conversationId, conversation.data]);

  const typingIds = useTypingUsers(conversationId);
  if (conversation.isError) {
    return (
      <section className="flex flex-1 flex-col items-center justify-center gap-2 p-6 text-center" aria-label="Conversation">
        <h1 className="font-semibold">This conversation is not available</h1>
        <p className="text-muted-foreground text-sm">{conversation.error.message}</p>
      </section>
    );
  }
  const data = conversation.data;
  const title = data ? conversationTitle(data, viewerId) : "";
  const isGroup = data?.type === "GROUP";
  const other = data && !isGroup ? data.participants.find((p) => p.id !== viewerId) : undefined;
  const typingNames = typingIds.filter((id) => id !== viewerId).map((id) => data?.participants.find((p) => p.id === id)?.name ?? "Someone");
  const newestOwn = [...items].reverse().find((item) => item.senderId === viewerId && item.type === "TEXT" && !item.deletedAt);
  const seenUpTo = Math.max(seenUpToSeq, visibleNewestSeq, opened?.newestSeq ?? 0);
  const unseen = items.filter((item) => item.seq > seenUpTo && item.senderId !== viewerId && item.type === "TEXT").length;
  const newestIncoming = [...items]
    .reverse()
    .find((item) => item.type === "TEXT" && item.senderId !== viewerId && !item.deletedAt && item.seq > (opened?.newestSeq ?? Infinity));

  const renderRow = (row: ViewRow): ReactNode => {
    switch (row.kind) {
      case "day":
        return (
          <div className="flex items-center gap-3 px-4 pt-4 pb-1">
            <span className="bg-border h-px flex-1" aria-hidden="true" />
            <span className="text-muted-foreground text-xs font-medium">{dayLabel(row.date)}</span>
            <span className="bg-border h-px flex-1" aria-hidden="true" />
          </div>
        );
      case "unread":
        return (
          <div className="flex items-center gap-3 px-4 pt-3">
            <span className="h-px flex-1 bg-red-500/60" aria-hidden="true" />
            <span className="text-xs font-medium text-red-600 dark:text-red-400">New messages</span>
            <span className="h-px flex-1 bg-red-500/60" aria-hidden="true" />
          </div>
        );
      case "pending":
        return (
          <PendingBubble
            content={row.entry.content}
            attachments={row.entry.attachments ?? []}
            failed={row.entry.state === "failed"}
            error={row.entry.error}
            onRetry={() => outbox.retry(row.entry.clientMessageId)}
            onDiscard={() => outbox.discard(row.entry.clientMessageId)}
          />
        );
      case "message": {
        const own = row.message.senderId === viewerId;
        return (
          <MessageBubble
            message={row.message}
            own={own}
            viewerId={viewerId}
            startsGroup={row.startsGroup}
            isGroup={isGroup}
            maxLength={maxMessageLength}
            editDraft={edit?.messageId === row.message.id ? edit.draft : undefined}
            onEditDraft={(draft) => setEdit(draft === null ? null : { messageId: row.message.id, draft })}
            status={own && data ? statusOfOwnMessage(row.message.seq, data.positions, viewerId) : undefined}
            statusLine={own && data && row.message.id === newestOwn?.id ? ownStatusLine(row.message, data, viewerId) : undefined}
          />
        );
      }
    }
  };

  return (
    <section
      className="relative flex min-h-0 flex-1 flex-col"
      aria-label={title ? `Conversation with ${title}` : "Conversation"}
      {...fileDrop.handlers}
    >
      {fileDrop.dragging && attachmentSettings.allowFileAttachments && <DropOverlay target={title} />}
      <header className="flex h-14 shrink-0 items-center gap-2 border-b px-4">
        {backHref && (
          <Button asChild variant="ghost" size="icon" className="-ml-2 md:hidden">
            <Link href={backHref} aria-label="Back to conversations">
              <ArrowLeftIcon aria-hidden="true" />
            </Link>
          </Button>
        )}
        <div className="grid min-w-0 flex-1">
          {data ? <h1 className="truncate leading-tight font-semibold">{title}</h1> : <Skeleton className="h-5 w-40" />}
          {isGroup && <span className="text-muted-foreground text-xs">{data?.participants.length} members</span>}
          {other && <PresenceLine userId={other.id} />}
        </div>
        {onSearch && (
          <Button variant="ghost" size="icon" aria-label="Search in this conversation" onClick={onSearch}>
            <SearchIcon aria-hidden="true" />
          </Button>
        )}
        {data && <ConversationMenu conversation={data} viewerId={viewerId} onLeft={onLeft} />}
      </header>
      <div className="relative flex min-h-0 flex-1 flex-col">
        <div ref={scrollRef} onScroll={onScroll} className="flex min-h-0 flex-1 flex-col overflow-y-auto overscroll-contain pb-2">
          {timeline.isPending || windowing.awaitingWindow ? (
            <div className="mt-auto grid gap-3 p-4" aria-busy="true" aria-label="Loading messages">
              <Skeleton className="h-10 w-1/2" />
              <Skeleton className="ml-auto h-10 w-1/3" />
              <Skeleton className="h-10 w-2/5" />
            </div>
          ) : timeline.isError ? (
            <p className="text-destructive m-auto p-6 text-sm">Messages could not be loaded: {timeline.error.message}</p>
          ) : rows.length === 0 ? (
            <p className="text-muted-foreground m-auto p-6 text-center text-sm">No messages yet. Say hello below.</p>
          ) : (
            <div role="list" aria-label="Messages" className="relative mt-auto w-full shrink-0" style={{ height: virtualizer.getTotalSize() }}>
              {virtualizer.getVirtualItems().map((virtualRow) => {
                const row = rows[virtualRow.index]!;
                const highlighted = row.kind === "message" && row.message.id === windowing.highlightedId;
                return (
                  <div
                    key={virtualRow.key}
                    role="listitem"
                    data-index={virtualRow.index}
                    ref={virtualizer.measureElement}
                    data-highlighted={highlighted || undefined}
                    aria-current={highlighted || undefined}
                    className={cn("absolute top-0 left-0 w-full", highlighted && "message-highlight")}
                    style={{ transform: `translateY(${virtualRow.start}px)` }}
                  >
                    {renderRow(row)}
                  </div>
                );
              })}
            </div>
          )}
        </div>
        {windowed ? (
          <Button
            size="sm"
            variant="secondary"
            className="absolute right-4 bottom-3 rounded-full shadow-md"
            disabled={windowing.jumping}
            onClick={() => void windowing.jumpToLatest()}
          >
            <ArrowDownIcon aria-hidden="true" />
            Jump to latest
          </Button>
        ) : showJump && (
          <Button
            size="sm"
            variant="secondary"
            className="absolute right-4 bottom-3 rounded-full shadow-md"
            onClick={() => virtualizer.scrollToIndex(rows.length - 1, { align: "end" })}
            aria-label={unseen > 0 ? `Jump to newest, ${unseen} new` : "Jump to newest"}
          >
            <ArrowDownIcon aria-hidden="true" />
            {unseen > 0 && <span>{unseen} new</span>}
          </Button>
        )}
      </div>
      {/* Screen readers hear each new message from others once, not the whole list. */}
      <p className="sr-only" aria-live="polite">
        {newestIncoming
          ? `${newestIncoming.senderName ?? "Someone"}: ${newestIncoming.content || summarizeAttachments(attachmentsOf(newestIncoming))}`
          : ""}
      </p>
      <TypingIndicator names={typingNames} />
      <MessageInput
        ref={inputRef}
        conversationId={conversationId}
        viewerId={viewerId}
        maxLength={maxMessageLength}
        attachmentSettings={attachmentSettings}
        // What one sends goes at the newest end, so that is where a window goes.
        onSend={windowed ? () => void windowing.jumpToLatest() : undefined}
      />
    </section>
  );
}
