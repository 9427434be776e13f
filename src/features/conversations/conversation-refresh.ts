import type { QueryClient } from "@tanstack/react-query";
import { getQueryKey } from "@trpc/react-query";
import { api } from "~/trpc/react";

// Events come in bursts: a message to a group of 50 brings 49 "delivered" and 49
// "read" receipts, and a reader's tabs each mark it read. Refetching the lists
// that depend on them (conversation list, details, unread count) once per event
// would cost three requests each time, against the reader's per-user read budget.
// So they are refetched at once for the first event, then at most once per
// REFRESH_GAP_MS while events keep coming, the last one always followed by a
// refetch. Search results are left alone: the search box refetches them as its
// query changes.

export const REFRESH_GAP_MS = 1_000;

/**
 * Runs `run` at once, then at most once per REFRESH_GAP_MS while calls keep
 * coming, the last call always followed by a run.
 */
export function coalesced(run: () => void): () => void {
  let lastRunAt = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fire = () => {
    lastRunAt = Date.now();
    timer = null;
    run();
  };
  return () => {
    if (timer) return;
    const wait = lastRunAt + REFRESH_GAP_MS - Date.now();
    if (wait <= 0) fire();
    else timer = setTimeout(fire, wait);
  };
}

const refreshers = new WeakMap<QueryClient, () => void>();

/** Refetches the conversation list, details and unread count, coalesced with the refetches around it. */
export function refreshConversations(queryClient: QueryClient): void {
  let refresh = refreshers.get(queryClient);
  if (!refresh) {
    refresh = coalesced(() => {
      for (const procedure of [api.conversations.list, api.conversations.get, api.conversations.unreadCount]) {
        void queryClient.invalidateQueries({ queryKey: getQueryKey(procedure) });
      }
    });
    refreshers.set(queryClient, refresh);
  }
  refresh();
}
