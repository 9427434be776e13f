"use client";

import { getQueryKey } from "@trpc/react-query";
import type { QueryClient } from "@tanstack/react-query";
import { api } from "~/trpc/react";
import type { Message } from "./contracts";
import { coalesced } from "~/features/conversations/conversation-refresh";
import { patchMessage, upsertMessage, type Timeline } from "./timeline";

// One cache entry per conversation holds everything loaded of it (the newest page
// plus any older pages the reader scrolled to). Events, sends, edits and paging all
// write through these helpers.

/** How many messages a page holds. */
export const PAGE_SIZE = 50;

type Utils = ReturnType<typeof api.useUtils>;

export const timelineInput = (conversationId: string) => ({ conversationId, limit: PAGE_SIZE });

export function patchTimeline(utils: Utils, conversationId: string, patch: (timeline: Timeline) => Timeline) {
  utils.messages.list.setData(timelineInput(conversationId), (timeline) => (timeline ? patch(timeline) : timeline));
}

/** Adds or replaces `message` in its conversation's timeline; false when that timeline holds nothing yet. */
export function upsertInTimeline(utils: Utils, message: Message): boolean {
  if (utils.messages.list.getData(timelineInput(message.conversationId)) === undefined) return false;
  patchTimeline(utils, message.conversationId, (timeline) => ({ ...timeline, items: upsertMessage(timeline.items, message) }));
  return true;
}

const timelineRefreshers = new WeakMap<QueryClient, Map<string, () => void>>();

/**
 * A message came for a timeline that holds nothing yet: its first page may be on
 * its way, fetched before the message was stored, and there is nothing to add the
 * message to (it was lost from view until the next refetch). The fetch is started
 * again (invalidating cancels the one under way), coalesced like the list refetches.
 */
export function refetchUnloadedTimeline(queryClient: QueryClient, conversationId: string): void {
  let byConversation = timelineRefreshers.get(queryClient);
  if (!byConversation) timelineRefreshers.set(queryClient, (byConversation = new Map()));
  let refetch = byConversation.get(conversationId);
  if (!refetch) {
    const queryKey = getQueryKey(api.messages.list, timelineInput(conversationId), "query");
    refetch = coalesced(() => void queryClient.invalidateQueries({ queryKey, exact: true }));
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
 * (`structuralSharing: mergeLatest`), so older pages and newer events survive.
 */
export async function refreshTimelines(queryClient: QueryClient) {
  await queryClient.invalidateQueries({ queryKey: getQueryKey(api.messages.list) });
}
