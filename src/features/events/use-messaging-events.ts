"use client";

import { useEffect, useState, useSyncExternalStore } from "react";
import { dropConversationFromSearch, dropDeletedFromSearch, refreshSearchAfterEdit } from "~/features/search/search-cache";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { getQueryKey } from "@trpc/react-query";
import { useRouter } from "next/navigation";
import type { Conversation } from "~/features/conversations/contracts";
import { refreshConversations } from "~/features/conversations/conversation-refresh";
import type { Message } from "~/features/messages/contracts";
import { alertIncoming } from "~/features/messages/incoming-alerts";
import {
  markNotificationsRead,
  refreshUnreadNotifications,
  removeNotification,
  upsertNotification,
} from "~/features/notifications/components/notification-cache";
import { fromWireNotification } from "~/features/notifications/notification-rows";
import { reportViewingAgain } from "~/features/presence/use-viewing-report";
import { patchInTimeline, refetchUnloadedTimeline, refreshTimelines, replaceInTimeline, upsertInTimeline } from "~/features/messages/timeline-cache";
import { applySettingsEvent } from "~/features/settings/use-public-settings";
import { api } from "~/trpc/react";
import { reconnectDelayMs } from "~/trpc/shared";
import type { ClientEvent, Receipt, WireMessage } from "./contracts";
import { liveState } from "./live-state";

// Keeps the React Query caches in step with the user's event stream: messages of
// open conversations are patched in place, lists that depend on them are
// refetched (coalesced: conversation-refresh.ts). wsLink resumes the stream from
// its last event id after a reconnect.

export type StreamStatus = "connecting" | "live" | "reconnecting";

export function fromWire(message: WireMessage): Message {
  return {
    ...message,
    createdAt: new Date(message.createdAt),
    editedAt: message.editedAt ? new Date(message.editedAt) : null,
    deletedAt: message.deletedAt ? new Date(message.deletedAt) : null,
  };
}

/**
 * Every event arrives as a tracked envelope ({ id, data }); typing, presence and
 * settings carry the id of the last durable event, so the cursor wsLink resumes from
 * never moves back or clears. (The bare form is what earlier servers sent.)
 */
function unwrap(item: ClientEvent | { id: string; data: ClientEvent }): ClientEvent {
  return "data" in item && typeof item.id === "string" ? item.data : (item as ClientEvent);
}

/** A conversation as any cached list or detail query holds it. */
function cachedConversation(queryClient: QueryClient, conversationId: string): Conversation | undefined {
  const detail = queryClient.getQueriesData<Conversation>({ queryKey: getQueryKey(api.conversations.get) });
  const lists = queryClient.getQueriesData<{ items: Conversation[] }>({ queryKey: getQueryKey(api.conversations.list) });
  return (
    detail.find(([, conversation]) => conversation?.id === conversationId)?.[1] ??
    lists.flatMap(([, page]) => page?.items ?? []).find((conversation) => conversation.id === conversationId)
  );
}

function subscribeToNetwork(listener: () => void) {
  window.addEventListener("online", listener);
  window.addEventListener("offline", listener);
  return () => {
    window.removeEventListener("online", listener);
    window.removeEventListener("offline", listener);
  };
}

/** The browser knows it is offline well before a socket's keep-alive notices. */
function useBrowserOnline(): boolean {
  return useSyncExternalStore(subscribeToNetwork, () => navigator.onLine, () => true);
}

export function useMessagingEvents(viewerId: string): StreamStatus {
  const online = useBrowserOnline();
  const utils = api.useUtils();
  const queryClient = useQueryClient();
  const router = useRouter();
  const [everLive, setEverLive] = useState(false);
  const [restarts, setRestarts] = useState(0);

  const conversationFor = async (conversationId: string): Promise<Conversation | undefined> =>
    cachedConversation(queryClient, conversationId) ??
    (await utils.conversations.get.fetch({ conversationId }).catch(() => undefined));

  // The ticks under one's own messages move without waiting for a refetch.
  const applyReceipts = (receipts: Pick<Receipt, "conversationId" | "userId" | "status" | "upToSeq">[]) => {
    for (const receipt of receipts) {
      utils.conversations.get.setData({ conversationId: receipt.conversationId }, (conversation) =>
        conversation
          ? {
              ...conversation,
              positions: conversation.positions.map((position) =>
                position.userId !== receipt.userId
                  ? position
                  : {
                      ...position,
                      lastDeliveredSeq: Math.max(position.lastDeliveredSeq, receipt.upToSeq),
                      lastReadSeq: receipt.status === "READ" ? Math.max(position.lastReadSeq, receipt.upToSeq) : position.lastReadSeq,
                    },
              ),
            }
          : conversation,
      );
    }
    // Others' receipts change only the ticks patched above; one's own (read on
    // another device) changes unread counts.
    if (receipts.some((receipt) => receipt.userId === viewerId)) refreshConversations(queryClient);
  };

  const subscription = api.events.onEvent.useSubscription(undefined, {
    onData(item) {
      const event = unwrap(item as unknown as ClientEvent | { id: string; data: ClientEvent });
      switch (event.type) {
        case "ready":
          setEverLive(true);
          setRestarts(0);
          // Anything could have happened while we were away; older pages the reader loaded are kept.
          void utils.conversations.invalidate();
          void utils.settings.public.invalidate();
          void utils.notifications.invalidate();
          void refreshTimelines(queryClient);
          // A new stream knows nothing of what this tab shows.
          reportViewingAgain();
          break;
        case "message.created": {
          const message = fromWire(event.message);
          if (message.senderId) liveState.clearTyping(message.conversationId, message.senderId);
          if (!upsertInTimeline(utils, message)) refetchUnloadedTimeline(queryClient, message.conversationId);
          refreshConversations(queryClient);
          if (message.type === "TEXT" && message.senderId !== viewerId && utils.settings.public.getData()?.enabled !== false) {
            void conversationFor(message.conversationId).then((conversation) => {
              // Unknown (not fetched, or no longer ours): better silent than ringing for a muted one.
              if (!conversation) return;
              alertIncoming({
                messageId: message.id,
                createdAt: message.createdAt,
                conversationId: message.conversationId,
                title: conversation.name ?? message.senderName ?? "New message",
                senderName: message.senderName ?? "Someone",
                text: message.content ?? "",
                muted: conversation.muted,
                onOpen: () => router.push(`/messages/${message.conversationId}`),
              });
            });
          }
          break;
        }
        case "message.updated":
          replaceInTimeline(utils, fromWire(event.message));
          refreshSearchAfterEdit(queryClient);
          break;
        case "message.deleted":
          patchInTimeline(utils, event.conversationId, event.messageId, (message) => ({
            ...message,
            content: null,
            reactions: [],
            deletedAt: message.deletedAt ?? new Date(),
          }));
          dropDeletedFromSearch(queryClient, event.messageId);
          refreshConversations(queryClient);
          break;
        case "reaction.updated":
          patchInTimeline(utils, event.conversationId, event.messageId, (message) => ({ ...message, reactions: event.reactions }));
          break;
        case "receipt.updated":
          applyReceipts([event]);
          break;
        case "receipts.updated":
          applyReceipts(event.receipts);
          break;
        case "conversation.member_removed":
          if (event.userId === viewerId) dropConversationFromSearch(queryClient, event.conversationId);
          refreshConversations(queryClient);
          break;
        case "conversation.created":
        case "conversation.members_added":
        case "conversation.muted":
          refreshConversations(queryClient);
          break;
        case "notification.upserted":
          upsertNotification(queryClient, fromWireNotification(event.notification));
          refreshUnreadNotifications(queryClient);
          break;
        case "notifications.read":
          markNotificationsRead(queryClient, event.ids, new Date(event.readAt));
          refreshUnreadNotifications(queryClient);
          break;
        case "notification.deleted":
          removeNotification(queryClient, event.id);
          refreshUnreadNotifications(queryClient);
          break;
        case "typing":
          liveState.setTyping(event.conversationId, event.userId, event.isTyping, Date.parse(event.expiresAt));
          break;
        case "presence":
          liveState.setPresence(event.userId, event.status, event.lastSeenAt ? new Date(event.lastSeenAt) : null);
          break;
        case "settings.updated":
          applySettingsEvent(utils, event.settings);
          break;
        default:
          break;
      }
    },
  });

  // wsLink reconnects a dropped socket by itself, but a subscription the server ended
  // with an error (RESYNC_REQUIRED after a long absence, a replay failure, an expired
  // session) stays ended: start a fresh one, without a cursor; its `ready` refreshes
  // everything the client holds.
  const failed = subscription.status === "error" || (subscription.status === "idle" && everLive);
  const { reset } = subscription;
  useEffect(() => {
    if (!failed) return;
    const timer = setTimeout(() => {
      setRestarts((count) => count + 1);
      reset();
    }, reconnectDelayMs(restarts));
    return () => clearTimeout(timer);
  }, [failed, reset, restarts]);

  if (!online) return everLive ? "reconnecting" : "connecting";
  if (subscription.status === "pending" && everLive) return "live";
  if (subscription.status === "pending") return "connecting";
  return everLive ? "reconnecting" : "connecting";
}
