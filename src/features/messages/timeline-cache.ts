"use client";

import { getQueryKey } from "@trpc/react-query";
import type { QueryClient } from "@tanstack/react-query";
import { api } from "~/trpc/react";
import type { Message } from "./contracts";
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

export function upsertInTimeline(utils: Utils, message: Message) {
  patchTimeline(utils, message.conversationId, (timeline) => ({ ...timeline, items: upsertMessage(timeline.items, message) }));
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
