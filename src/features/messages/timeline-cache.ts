"use client";

import { getQueryKey } from "@trpc/react-query";
import type { QueryClient } from "@tanstack/react-query";
import { api } from "~/trpc/react";
import type { Message } from "./contracts";
import { coalesced } from "~/features/conversations/conversation-refresh";
import { mergeAround, mergeLatest, patchMessage, showLatest, upsertLive, type Timeline } from "./timeline";

// One cache entry per conversation holds everything loaded of it (the newest page
// plus any older pages the reader scrolled to). Events, sends, edits and paging all
// write through these helpers.

/** How many messages a page holds. */
export const PAGE_SIZE = 50;

type Utils = ReturnType<typeof api.useUtils>;

export const timelineInput = (conversationId: string) => ({ conversationId, limit: PAGE_SIZE });

/**
 * React Query passes data written with setData through the query's structuralSharing
 * too, i.e. through the merge meant for fetched pages. What these helpers write is
 * already the whole timeline (a window, say, which the merge would take for a newest
 * page), so it is marked and taken as it is.
 */
const written = new WeakSet<Timeline>();

function write(timeline: Timeline): Timeline {
  written.add(timeline);
  return timeline;
}

/** The conversation view's structuralSharing: a fetched newest page merges into what is held. */
export function mergeFetchedTimeline(held: Timeline | undefined, fresh: Timeline): Timeline {
  return written.has(fresh) ? fresh : mergeLatest(held, fresh);
}

export function patchTimeline(utils: Utils, conversationId: string, patch: (timeline: Timeline) => Timeline) {
  utils.messages.list.setData(timelineInput(conversationId), (timeline) => (timeline ? write(patch(timeline)) : timeline));
}

/** Puts a page around a message (a search result) into the timeline, joined to what is held where they meet. */
export function placeWindow(utils: Utils, conversationId: string, around: Timeline) {
  utils.messages.list.setData(timelineInput(conversationId), (held) => write(mergeAround(held, around)));
}

/** The newest page replaces a window further back ("Jump to latest"). */
export function placeLatest(utils: Utils, conversationId: string, latest: Timeline) {
  utils.messages.list.setData(timelineInput(conversationId), (held) => write(showLatest(held, latest)));
}

/**
 * A window is forgotten when its view closes: the conversation opens at its newest
 * messages next time, fetched afresh, and meanwhile no event needs to care about it.
 */
export function forgetWindow(queryClient: QueryClient, utils: Utils, conversationId: string) {
  if (!utils.messages.list.getData(timelineInput(conversationId))?.hasMoreAfter) return;
  queryClient.removeQueries({ queryKey: getQueryKey(api.messages.list, timelineInput(conversationId), "query"), exact: true });
}

/**
 * Adds or replaces `message` in its conversation's timeline (not past the end of a
 * window, see upsertLive); false when that timeline holds nothing yet.
 */
export function upsertInTimeline(utils: Utils, message: Message): boolean {
  if (utils.messages.list.getData(timelineInput(message.conversationId)) === undefined) return false;
  patchTimeline(utils, message.conversationId, (timeline) => upsertLive(timeline, message));
  return true;
}

const timelineRefreshers = new WeakMap<QueryClient, Map<string, () => void>>();

/**
 * A message came for a timeline that holds nothing yet: its first page may be on
 * its way, fetched before the message was stored, and there is nothing to add the
 * message to (it was lost from view until the next refetch). The fetch is started
 * again, coalesced like the list refetches. The one under way is cancelled first:
 * for a query without data, invalidating hands back the fetch in flight instead of
 * starting another (React Query cancels only to refetch data it already has).
 */
export function refetchUnloadedTimeline(queryClient: QueryClient, conversationId: string): void {
  let byConversation = timelineRefreshers.get(queryClient);
  if (!byConversation) timelineRefreshers.set(queryClient, (byConversation = new Map()));
  let refetch = byConversation.get(conversationId);
  if (!refetch) {
    const queryKey = getQueryKey(api.messages.list, timelineInput(conversationId), "query");
    refetch = coalesced(() => {
      void queryClient.cancelQueries({ queryKey, exact: true });
      void queryClient.invalidateQueries({ queryKey, exact: true });
    });
    byConversation.set(conversationId, refetch);
  }
  refetch();
}

/** A changed message (edit, reaction): replaced where it is loaded, never inserted into a gap of unloaded history. */
export function replaceInTimeline(utils: Utils, message: Message) {
  patchInTimeline(utils, message.conversationId, message.id, () => message);
}

export function patchInTimeline(utils: Utils, conversationId: string, messageId: string, patch: (message: Message) => Message) {
  patchTimeline(utils, conversationId, (timeline) => ({ ...timeline, items: patchMessage(timeline.items, messageId, patch) }));
}

/**
 * When the event stream goes live (first connect or reconnect), a page fetched
 * before that moment may have missed messages: every held conversation is fetched
 * again. The conversation view's query merges the result into what it holds
 * (`structuralSharing: mergeFetchedTimeline`, merging with `mergeLatest`), so older pages and newer events survive.
 */
export async function refreshTimelines(queryClient: QueryClient) {
  await queryClient.invalidateQueries({ queryKey: getQueryKey(api.messages.list) });
}
