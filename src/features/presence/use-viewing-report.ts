"use client";

import { useEffect } from "react";
import { getOpenConversation, subscribeToOpenConversation } from "~/features/messages/incoming-alerts";
import { api } from "~/trpc/react";

// Tells the server which conversation this tab shows to someone looking at it,
// so they are not notified of the messages they are reading. The server keeps it
// per WebSocket connection, and only while that connection's event stream is
// open: every new stream (each `ready`) starts without it, so it goes out again.

/**
 * Changes settle first: moving between conversations passes through "none", and
 * focus leaves and comes back as menus and dialogs open. Short, because a message
 * arriving meanwhile is notified by what the server last heard.
 */
const SETTLE_MS = 150;

const streamReadyListeners = new Set<() => void>();

/** The event stream went live (again): the report has to be made on it anew, changed or not. */
export function reportViewingAgain(): void {
  for (const listener of streamReadyListeners) listener();
}

/** The conversation in front of the person: on screen, in a visible tab of the focused window. */
function viewedConversation(): string | null {
  return document.visibilityState === "visible" && document.hasFocus() ? getOpenConversation() : null;
}

/** Keeps the server told what this tab shows; mount it once, beside the event stream. */
export function useViewingReport(): void {
  const utils = api.useUtils();

  useEffect(() => {
    /** What the server last heard from here; undefined when unknown (nothing yet, or a report failed). */
    let reported: string | null | undefined;
    let settleTimer: ReturnType<typeof setTimeout> | undefined;

    const report = (always: boolean) => {
      clearTimeout(settleTimer);
      const viewing = viewedConversation();
      if (!always && viewing === reported) return;
      reported = viewing;
      utils.client.presence.set.mutate({ status: "active", viewingConversationId: viewing }).catch(() => {
        // The next change, or the next `ready`, tries again.
        if (reported === viewing) reported = undefined;
      });
    };
    const reportWhenSettled = () => {
      clearTimeout(settleTimer);
      settleTimer = setTimeout(() => report(false), SETTLE_MS);
    };
    const reportAgain = () => report(true);

    streamReadyListeners.add(reportAgain);
    const stopFollowingConversation = subscribeToOpenConversation(reportWhenSettled);
    window.addEventListener("focus", reportWhenSettled);
    window.addEventListener("blur", reportWhenSettled);
    document.addEventListener("visibilitychange", reportWhenSettled);
    return () => {
      clearTimeout(settleTimer);
      streamReadyListeners.delete(reportAgain);
      stopFollowingConversation();
      window.removeEventListener("focus", reportWhenSettled);
      window.removeEventListener("blur", reportWhenSettled);
      document.removeEventListener("visibilitychange", reportWhenSettled);
    };
  }, [utils]);
}
