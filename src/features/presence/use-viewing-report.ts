"use client";

import { useEffect } from "react";
import { getOpenConversation, subscribeToOpenConversation } from "~/features/messages/incoming-alerts";
import { api } from "~/trpc/react";

// Tells the server which conversation this tab shows to someone looking at it,
// so they are not notified of the messages they are reading, and whether anyone
// has used this tab lately: when every tab of a person is idle they are away
// (their contacts see it, and their browsers get pushes). The server keeps both
// per WebSocket connection, and only while that connection's event stream is
// open: every new stream (each `ready`) starts without them, so they go out again.

/**
 * Changes settle first: moving between conversations passes through "none", and
 * focus leaves and comes back as menus and dialogs open. Short, because a message
 * arriving meanwhile is notified by what the server last heard.
 */
const SETTLE_MS = 150;
/** No key, pointer or wheel input in this tab for this long: idle (a tab in the background gets none). */
export const IDLE_AFTER_MS = 5 * 60_000;
const IDLE_CHECK_MS = 30_000;
const ACTIVITY_EVENTS = ["pointerdown", "pointermove", "keydown", "wheel", "touchstart", "focus"] as const;

const streamReadyListeners = new Set<() => void>();

/** The event stream went live (again): the report has to be made on it anew, changed or not. */
export function reportViewingAgain(): void {
  for (const listener of streamReadyListeners) listener();
}

/** The conversation in front of the person: on screen, in a visible tab of the focused window. */
function viewedConversation(): string | null {
  return document.visibilityState === "visible" && document.hasFocus() ? getOpenConversation() : null;
}

/** Keeps the server told what this tab shows and whether it is in use; mount it once, beside the event stream. */
export function useViewingReport(): void {
  const utils = api.useUtils();

  useEffect(() => {
    /** What the server last heard from here; undefined when unknown (nothing yet, or a report failed). */
    let reported: string | undefined;
    let settleTimer: ReturnType<typeof setTimeout> | undefined;
    let lastInput = Date.now();

    const report = (always: boolean) => {
      clearTimeout(settleTimer);
      const viewing = viewedConversation();
      const status = Date.now() - lastInput >= IDLE_AFTER_MS ? "idle" : "active";
      const key = `${status}:${viewing ?? ""}`;
      if (!always && key === reported) return;
      reported = key;
      // An idle screen is looked at by nobody: the server counts viewing on active connections only.
      utils.client.presence.set.mutate({ status, viewingConversationId: viewing }).catch(() => {
        // The next change, or the next `ready`, tries again.
        if (reported === key) reported = undefined;
      });
    };
    const onInput = () => {
      const wasIdle = Date.now() - lastInput >= IDLE_AFTER_MS;
      lastInput = Date.now();
      if (wasIdle) report(false);
    };
    const idleCheck = setInterval(() => report(false), IDLE_CHECK_MS);
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
    for (const type of ACTIVITY_EVENTS) window.addEventListener(type, onInput, { passive: true });
    return () => {
      clearTimeout(settleTimer);
      clearInterval(idleCheck);
      for (const type of ACTIVITY_EVENTS) window.removeEventListener(type, onInput);
      streamReadyListeners.delete(reportAgain);
      stopFollowingConversation();
      window.removeEventListener("focus", reportWhenSettled);
      window.removeEventListener("blur", reportWhenSettled);
      document.removeEventListener("visibilitychange", reportWhenSettled);
    };
  }, [utils]);
}
