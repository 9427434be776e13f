"use client";

import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useQueryClient } from "@tanstack/react-query";
import { getQueryKey } from "@trpc/react-query";
import { BellIcon, CheckCheckIcon, Loader2Icon, SettingsIcon, XIcon } from "lucide-react";
import { toast } from "sonner";
import { Badge } from "~/components/ui/badge";
import { Button } from "~/components/ui/button";
import { Popover, PopoverContent, PopoverTrigger } from "~/components/ui/popover";
import { Skeleton } from "~/components/ui/skeleton";
import { moveFocus } from "~/features/conversations/components/conversation-list";
import { serverMessage } from "~/features/conversations/components/people";
import { fullTime, timeAgo, useMinuteClock } from "~/lib/relative-time";
import { cn } from "~/lib/utils";
import { api } from "~/trpc/react";
import type { AppNotification } from "../contracts";
import { markNotificationsRead, refreshUnreadNotifications, removeNotification } from "./notification-cache";

// The header's bell: the unread count, and the person's notifications newest
// first. Where the page has the event stream (the messaging pages) the caches
// follow it live; elsewhere (the admin pages) the count is polled.

const PAGE_SIZE = 20;
const POLL_MS = 30_000;
const ITEM_SELECTOR = "[data-notification-item]";

/** Only a path of this app is followed: a notification never sends anyone elsewhere. */
function inAppPath(link: string | null): string | null {
  return link && link.startsWith("/") && !link.startsWith("//") && !link.startsWith("/\\") ? link : null;
}

function countHint(notification: AppNotification): string | null {
  if (notification.count <= 1) return null;
  return notification.category === "SOCIAL" ? `${notification.count} new messages` : `×${notification.count}`;
}

function badgeText(unread: number): string {
  return unread > 99 ? "99+" : String(unread);
}

/**
 * `live`: the page keeps the notification caches up to date from its event stream;
 * without it the count is refetched every 30 seconds and when the window gets focus.
 * `settingsHref`: where "Notification settings" leads, or null to leave it out.
 */
export function NotificationBell({ live, settingsHref = "/messages/settings" }: { live: boolean; settingsHref?: string | null }) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const utils = api.useUtils();
  const [open, setOpen] = useState(false);
  const headingId = useId();
  const unread = api.notifications.unreadCount.useQuery(
    undefined,
    live ? undefined : { refetchInterval: POLL_MS, refetchOnWindowFocus: true, staleTime: 0 },
  );
  const count = unread.data?.unread ?? 0;

  // The badge moves at once; the server's count follows (refreshUnreadNotifications).
  const lowerCount = (by: number | "all") => {
    void queryClient.cancelQueries({ queryKey: getQueryKey(api.notifications.unreadCount) });
    utils.notifications.unreadCount.setData(undefined, (current) =>
      current ? { unread: by === "all" ? 0 : Math.max(0, current.unread - by) } : current,
    );
  };
  // Mutations the list starts live here, above it: they finish after the popover (and the list) closed.
  const undo = (message: string) => (error: { message: string }) => {
    toast.error(message, { description: serverMessage(error) });
    void utils.notifications.list.invalidate();
    void utils.notifications.unreadCount.invalidate();
  };
  const markRead = api.notifications.markRead.useMutation({
    onMutate: ({ ids }) => markNotificationsRead(queryClient, ids, new Date()),
    onSuccess: () => refreshUnreadNotifications(queryClient),
    onError: undo("The notification was not marked as read"),
  });
  const markAllRead = api.notifications.markAllRead.useMutation({
    onMutate: () => {
      lowerCount("all");
      markNotificationsRead(queryClient, null, new Date());
    },
    onSuccess: () => refreshUnreadNotifications(queryClient),
    onError: undo("Your notifications were not marked as read"),
  });
  const remove = api.notifications.delete.useMutation({
    onMutate: ({ id }) => removeNotification(queryClient, id),
    onSuccess: () => refreshUnreadNotifications(queryClient),
    onError: undo("The notification was not deleted"),
  });

  const openNotification = (notification: AppNotification) => {
    if (!notification.readAt) {
      lowerCount(1);
      markRead.mutate({ ids: [notification.id] });
    }
    const path = inAppPath(notification.link);
    if (!path) return;
    setOpen(false);
    router.push(path);
  };
  const deleteNotification = (notification: AppNotification) => {
    if (!notification.readAt) lowerCount(1);
    remove.mutate({ id: notification.id });
  };

  return (
    <Popover open={open} onOpenChange={setOpen}>
      <PopoverTrigger asChild>
        <Button variant="ghost" size="icon" className="relative" aria-label={count > 0 ? `Notifications, ${count} unread` : "Notifications"}>
          <BellIcon aria-hidden="true" />
          {count > 0 && (
            <Badge className="absolute -top-1 -right-1 h-5 min-w-5 px-1 text-[10px] tabular-nums" aria-hidden="true">
              {badgeText(count)}
            </Badge>
          )}
        </Button>
      </PopoverTrigger>
      <PopoverContent align="end" aria-labelledby={headingId} className="flex max-h-[min(32rem,calc(100svh-5rem))] w-[min(24rem,calc(100vw-1rem))] flex-col p-0">
        <NotificationList
          headingId={headingId}
          live={live}
          unread={count}
          settingsHref={settingsHref}
          markingAllRead={markAllRead.isPending}
          onMarkAllRead={() => markAllRead.mutate()}
          onOpenNotification={openNotification}
          onDeleteNotification={deleteNotification}
          onLeave={() => setOpen(false)}
        />
      </PopoverContent>
    </Popover>
  );
}

/** The popover's content: mounted while it is open, so each opening shows the list as it is then. */
function NotificationList({
  headingId,
  live,
  unread,
  settingsHref,
  markingAllRead,
  onMarkAllRead,
  onOpenNotification,
  onDeleteNotification,
  onLeave,
}: {
  headingId: string;
  live: boolean;
  unread: number;
  settingsHref: string | null;
  markingAllRead: boolean;
  onMarkAllRead: () => void;
  onOpenNotification: (notification: AppNotification) => void;
  onDeleteNotification: (notification: AppNotification) => void;
  onLeave: () => void;
}) {
  const now = useMinuteClock();
  const listRef = useRef<HTMLUListElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  /** Where focus goes once a deleted notification has left the list: the row that took its place. */
  const focusRowAfterDelete = useRef<number | null>(null);
  const list = api.notifications.list.useInfiniteQuery(
    { limit: PAGE_SIZE },
    // Without the event stream, only a fetch on opening shows what came since.
    { getNextPageParam: (page) => page.nextCursor, staleTime: live ? 30_000 : 0 },
  );
  const items = list.data?.pages.flatMap((page) => page.items) ?? [];

  useEffect(() => {
    const row = focusRowAfterDelete.current;
    if (row === null) return;
    focusRowAfterDelete.current = null;
    const rows = [...(listRef.current?.querySelectorAll<HTMLElement>(ITEM_SELECTOR) ?? [])];
    (rows[Math.min(row, rows.length - 1)] ?? headingRef.current)?.focus();
  }, [items.length]);

  const onListKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    if (moveFocus(event.currentTarget, event.key, ITEM_SELECTOR)) event.preventDefault();
  };

  return (
    <>
      <div className="flex items-center justify-between gap-2 border-b px-3 py-2">
        <h2 id={headingId} ref={headingRef} tabIndex={-1} className="text-sm font-semibold outline-none">
          Notifications
        </h2>
        <Button variant="ghost" size="sm" disabled={unread === 0 || markingAllRead} onClick={onMarkAllRead}>
          {markingAllRead ? <Loader2Icon className="animate-spin" aria-hidden="true" /> : <CheckCheckIcon aria-hidden="true" />}
          Mark all read
        </Button>
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto">
        {list.isPending ? (
          <div className="grid gap-2 p-3" role="status" aria-label="Loading notifications">
            <Skeleton className="h-12 w-full" />
            <Skeleton className="h-12 w-full" />
            <Skeleton className="h-12 w-full" />
          </div>
        ) : list.isError ? (
          <p role="alert" className="text-destructive p-4 text-sm">
            Your notifications could not be loaded. {serverMessage(list.error)}
          </p>
        ) : items.length === 0 ? (
          <div className="text-muted-foreground grid justify-items-center gap-2 px-4 py-8 text-center text-sm">
            <BellIcon className="size-6" aria-hidden="true" />
            <p>You&apos;re all caught up</p>
          </div>
        ) : (
          <ul ref={listRef} aria-label="Notifications" className="grid gap-0.5 p-1" onKeyDown={onListKeyDown}>
            {items.map((notification, index) => {
              const isUnread = !notification.readAt;
              const hint = countHint(notification);
              return (
                <li key={notification.id} className="hover:bg-accent flex items-start gap-1 rounded-md">
                  <button
                    type="button"
                    data-notification-item=""
                    className="focus-visible:ring-ring/50 flex min-w-0 flex-1 gap-2.5 rounded-md p-2 text-left outline-none focus-visible:ring-[3px]"
                    onClick={() => onOpenNotification(notification)}
                  >
                    <span
                      aria-hidden="true"
                      className={cn("mt-1.5 size-2 shrink-0 rounded-full", isUnread ? "bg-primary" : "bg-transparent")}
                    />
                    <span className="grid min-w-0 flex-1 gap-0.5">
                      {isUnread && <span className="sr-only">Unread: </span>}
                      <span className={cn("truncate text-sm", isUnread ? "font-semibold" : "font-medium")}>{notification.title}</span>
                      {notification.body && (
                        <span className="text-muted-foreground line-clamp-2 text-sm break-words">{notification.body}</span>
                      )}
                      <span className="text-muted-foreground flex flex-wrap gap-x-1 text-xs">
                        {now > 0 && (
                          <time dateTime={notification.updatedAt.toISOString()} title={fullTime.format(notification.updatedAt)}>
                            {timeAgo(notification.updatedAt, now)}
                          </time>
                        )}
                        {hint && (
                          <>
                            {now > 0 && <span aria-hidden="true">·</span>}
                            <span>{hint}</span>
                          </>
                        )}
                      </span>
                    </span>
                  </button>
                  <Button
                    variant="ghost"
                    size="icon-sm"
                    className="text-muted-foreground mt-1 mr-1 shrink-0"
                    aria-label={`Delete notification: ${notification.title}`}
                    onClick={() => {
                      focusRowAfterDelete.current = index;
                      onDeleteNotification(notification);
                    }}
                  >
                    <XIcon aria-hidden="true" />
                  </Button>
                </li>
              );
            })}
          </ul>
        )}
        {list.hasNextPage && (
          <div className="p-2 pt-0">
            <Button
              variant="ghost"
              size="sm"
              className="w-full"
              disabled={list.isFetchingNextPage}
              onClick={() => void list.fetchNextPage()}
            >
              {list.isFetchingNextPage && <Loader2Icon className="animate-spin" aria-hidden="true" />}
              Load more
            </Button>
          </div>
        )}
      </div>
      {settingsHref && (
        <div className="border-t p-1">
          <Button variant="ghost" size="sm" className="w-full justify-start" asChild>
            <Link href={settingsHref} onClick={onLeave}>
              <SettingsIcon aria-hidden="true" />
              Notification settings
            </Link>
          </Button>
        </div>
      )}
    </>
  );
}
