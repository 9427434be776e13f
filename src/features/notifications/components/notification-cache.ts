import type { InfiniteData, QueryClient, QueryKey } from "@tanstack/react-query";
import { getQueryKey } from "@trpc/react-query";
import { coalesced } from "~/features/conversations/conversation-refresh";
import { api, type RouterInputs, type RouterOutputs } from "~/trpc/react";
import type { AppNotification } from "../contracts";

// The bell's cached lists follow the notification events (and the bell's own
// mutations) in place. The unread count is refetched instead
// (refreshUnreadNotifications), because whether an event changes it depends on
// notifications the lists may not hold (one beyond the loaded pages, say).

type ListPage = RouterOutputs["notifications"]["list"];
type ListInput = RouterInputs["notifications"]["list"];
type CachedList = InfiniteData<ListPage, unknown> | ListPage;

/** The tRPC query key's second part: the input the list was fetched with. */
function inputOf(queryKey: QueryKey): ListInput | undefined {
  const meta = queryKey[1] as { input?: ListInput } | undefined;
  return meta?.input;
}

/** Newest first, as the server orders them: by updatedAt, then id. */
function isNewer(a: AppNotification, b: AppNotification): boolean {
  const difference = a.updatedAt.getTime() - b.updatedAt.getTime();
  return difference > 0 || (difference === 0 && a.id > b.id);
}

/**
 * Rewrites the items of every cached notifications.list, infinite (the bell) or
 * not; `change` gets each list's pages and whether it holds unread ones only.
 */
function changeLists(queryClient: QueryClient, change: (pages: ListPage[], unreadOnly: boolean) => ListPage[]): void {
  for (const [queryKey, cached] of queryClient.getQueriesData<CachedList>({ queryKey: getQueryKey(api.notifications.list) })) {
    if (!cached) continue;
    const unreadOnly = inputOf(queryKey)?.unreadOnly ?? false;
    if ("pages" in cached) {
      queryClient.setQueryData<InfiniteData<ListPage, unknown>>(queryKey, { ...cached, pages: change(cached.pages, unreadOnly) });
    } else {
      queryClient.setQueryData<ListPage>(queryKey, change([cached], unreadOnly)[0]);
    }
  }
}

const unreadRefreshers = new WeakMap<QueryClient, () => void>();

/** Refetches the badge's count, coalesced with the refetches around it (a burst of events asks once). */
export function refreshUnreadNotifications(queryClient: QueryClient): void {
  let refresh = unreadRefreshers.get(queryClient);
  if (!refresh) {
    refresh = coalesced(() => void queryClient.invalidateQueries({ queryKey: getQueryKey(api.notifications.unreadCount) }));
    unreadRefreshers.set(queryClient, refresh);
  }
  refresh();
}

/** A notification new or grown (a burst joined it): moved to where its time puts it. */
export function upsertNotification(queryClient: QueryClient, notification: AppNotification): void {
  changeLists(queryClient, (pages, unreadOnly) => {
    const without = pages.map((page) => ({ ...page, items: page.items.filter((item) => item.id !== notification.id) }));
    if (unreadOnly && notification.readAt) return without;
    let placed = false;
    const result = without.map((page) => {
      if (placed) return page;
      const index = page.items.findIndex((item) => isNewer(notification, item));
      if (index < 0) return page;
      placed = true;
      return { ...page, items: [...page.items.slice(0, index), notification, ...page.items.slice(index)] };
    });
    // Older than everything held: it belongs at the end only if nothing older is left to load.
    const last = result[result.length - 1];
    if (!placed && last && last.nextCursor === null) result[result.length - 1] = { ...last, items: [...last.items, notification] };
    return result;
  });
}

/** Read on some device (`ids`), or all of them (`ids` null). */
export function markNotificationsRead(queryClient: QueryClient, ids: readonly string[] | null, readAt: Date): void {
  const matches = (item: AppNotification) => ids === null || ids.includes(item.id);
  changeLists(queryClient, (pages, unreadOnly) =>
    pages.map((page) => ({
      ...page,
      items: unreadOnly
        ? page.items.filter((item) => !matches(item))
        : page.items.map((item) => (matches(item) && !item.readAt ? { ...item, readAt } : item)),
    })),
  );
}

export function removeNotification(queryClient: QueryClient, id: string): void {
  changeLists(queryClient, (pages) => pages.map((page) => ({ ...page, items: page.items.filter((item) => item.id !== id) })));
}
