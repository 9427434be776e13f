"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { serverMessage } from "~/features/conversations/components/people";
import { api } from "~/trpc/react";
import type { MessageTarget } from "../message-link";
import { appendNewer, spansSeq, type Timeline } from "../timeline";
import { forgetWindow, mergeFetchedTimeline, PAGE_SIZE, patchTimeline, placeLatest, placeWindow, timelineInput } from "../timeline-cache";

// The conversation view's timeline, and opening it at one message (a search result):
// the messages around it go into the timeline as a window (timeline.ts), which pages
// down until it meets the newest message, or jumps there.

interface Opening {
  target: MessageTarget;
  /** The timeline reaches the target: the view shows it and scrolls there. */
  arrived: boolean;
  /** Its messages could not be fetched: the view opens as usual. */
  failed: boolean;
}

/** Where the view should scroll once its rows allow it; a new object for every request. */
export type ScrollRequest = { to: "bottom" } | ({ to: "message" } & MessageTarget);

const sameTarget = (a: MessageTarget | undefined, b: MessageTarget | undefined) => a?.messageId === b?.messageId && a?.seq === b?.seq;

export function useConversationTimeline(conversationId: string, target: MessageTarget | undefined) {
  const utils = api.useUtils();
  const queryClient = useQueryClient();
  const [opening, setOpening] = useState<Opening | null>(null);
  const [scrollRequest, setScrollRequest] = useState<ScrollRequest | null>(null);

  // Another target (the first, a second result in the same conversation, or Back to the
  // plain conversation) starts a new opening; one settles in this same render.
  let current = sameTarget(target, opening?.target) ? opening : target ? { target, arrived: false, failed: false } : null;
  const awaiting = current !== null && !current.arrived && !current.failed;

  // Events, sends and reconnects keep this entry current (timeline-cache.ts). Whenever it
  // is fetched again, the result is merged into what is held instead of replacing it:
  // a plain replace would drop the older pages the reader loaded and any message that
  // arrived by event while the fetch was on its way.
  const timeline = api.messages.list.useQuery(timelineInput(conversationId), {
    structuralSharing: (held, fresh) => mergeFetchedTimeline(held as Timeline | undefined, fresh as Timeline),
    // Opening at a message: the messages around it come first, not the newest page.
    enabled: !awaiting,
    staleTime: Infinity,
    refetchOnReconnect: false,
    refetchOnWindowFocus: false,
  });

  const arrivesNow = current !== null && awaiting && timeline.data !== undefined && spansSeq(timeline.data, current.target.seq);
  if (arrivesNow) current = { ...current!, arrived: true };
  if (current !== opening) setOpening(current);
  if (arrivesNow) setScrollRequest({ to: "message", ...current!.target });

  const wanted = current && !current.arrived && !current.failed ? current.target : undefined;
  const wantedId = wanted?.messageId;
  const wantedSeq = wanted?.seq;
  useEffect(() => {
    if (wantedId === undefined || wantedSeq === undefined) return;
    let cancelled = false;
    utils.client.messages.list
      .query({ conversationId, aroundSeq: wantedSeq, limit: PAGE_SIZE })
      // The timeline then reaches the target, and the render that sees it settles the opening.
      .then((around) => !cancelled && placeWindow(utils, conversationId, around))
      .catch((error: { message: string }) => {
        if (cancelled) return;
        toast.error(`That message could not be opened: ${serverMessage(error)}`);
        setOpening((was) => (was?.target.messageId === wantedId && was.target.seq === wantedSeq ? { ...was, failed: true } : was));
      });
    return () => {
      cancelled = true;
    };
  }, [conversationId, utils, wantedId, wantedSeq]);

  const [jumping, setJumping] = useState(false);
  const jumpToLatest = useCallback(async () => {
    setJumping(true);
    try {
      const latest = await utils.client.messages.list.query(timelineInput(conversationId));
      placeLatest(utils, conversationId, latest);
      setScrollRequest({ to: "bottom" });
    } catch (error) {
      toast.error(`The latest messages could not be loaded: ${serverMessage(error as { message: string })}`);
    } finally {
      setJumping(false);
    }
  }, [utils, conversationId]);

  // Back from a message to the plain conversation: it is at its newest again.
  const hasTarget = target !== undefined;
  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- starts a fetch; only its busy flag is set at once
    if (!hasTarget && utils.messages.list.getData(timelineInput(conversationId))?.hasMoreAfter) void jumpToLatest();
  }, [hasTarget, conversationId, utils, jumpToLatest]);

  const newerLoading = useRef(false);
  const loadNewer = useCallback(async () => {
    const held = utils.messages.list.getData(timelineInput(conversationId));
    const newest = held?.items[held.items.length - 1];
    if (!held?.hasMoreAfter || !newest || newerLoading.current) return;
    newerLoading.current = true;
    try {
      const newer = await utils.client.messages.list.query({ conversationId, afterSeq: newest.seq, limit: PAGE_SIZE });
      patchTimeline(utils, conversationId, (timeline) => appendNewer(timeline, newer, newest.seq));
    } catch (error) {
      toast.error(`Newer messages could not be loaded: ${serverMessage(error as { message: string })}`);
    } finally {
      newerLoading.current = false;
    }
  }, [utils, conversationId]);

  useEffect(() => () => forgetWindow(queryClient, utils, conversationId), [queryClient, utils, conversationId]);

  return {
    timeline,
    /** The messages around the target are on their way: the view shows neither the newest page nor its place in it. */
    awaitingWindow: awaiting && !arrivesNow,
    /** Opening at a message: the view does not open at the first unread. */
    opensAtMessage: current !== null && !current.failed,
    highlightedId: current?.arrived ? current.target.messageId : undefined,
    scrollRequest,
    jumping,
    jumpToLatest,
    loadNewer,
  };
}
