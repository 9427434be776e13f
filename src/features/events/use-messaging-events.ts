"use client";

import { useState, useSyncExternalStore } from "react";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { getQueryKey } from "@trpc/react-query";
import { useRouter } from "next/navigation";
import type { Conversation } from "~/features/conversations/contracts";
import type { Message } from "~/features/messages/contracts";
import { alertIncoming } from "~/features/messages/incoming-alerts";
import { patchInTimeline, refreshTimelines, upsertInTimeline } from "~/features/messages/timeline-cache";
import { applySettingsEvent } from "~/features/settings/use-public-settings";
import { api } from "~/trpc/react";
import type { ClientEvent, WireMessage } from "./contracts";
import { liveState } from "./live-state";

// Keeps the React Query caches in step with the user's event stream: messages of
// open conversations are patched in place, lists that depend on them are
// refetched. wsLink resumes the stream from its last event id after a reconnect.

export type StreamStatus = "connecting" | "live" | "reconnecting";

export function fromWire(message: WireMessage): Message {
  return {
    ...message,
    createdAt: new Date(message.createdAt),
    editedAt: message.editedAt ? new Date(message.editedAt) : null,
    deletedAt: message.deletedAt ? new Date(message.deletedAt) : null,
  };
}

/** Durable events arrive as tracked envelopes ({ id, data }); typing and presence arrive bare. */
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

  const subscription = api.events.onEvent.useSubscription(undefined, {
    onData(item) {
      const event = unwrap(item as unknown as ClientEvent | { id: string; data: ClientEvent });
      switch (event.type) {
        case "ready":
          setEverLive(true);
          // Anything could have happened while we were away; older pages the reader loaded are kept.
          void utils.conversations.invalidate();
          void utils.settings.public.invalidate();
          void refreshTimelines(utils, queryClient);
          break;
        case "message.created": {
          const message = fromWire(event.message);
          if (message.senderId) liveState.clearTyping(message.conversationId, message.senderId);
          upsertInTimeline(utils, message);
          void utils.conversations.invalidate();
          if (message.type === "TEXT" && message.senderId !== viewerId) {
            const conversation = cachedConversation(queryClient, message.conversationId);
            alertIncoming({
              conversationId: message.conversationId,
              title: conversation?.name ?? message.senderName ?? "New message",
              senderName: message.senderName ?? "Someone",
              text: message.content ?? "",
              muted: conversation?.muted ?? false,
              onOpen: () => router.push(`/messages/${message.conversationId}`),
            });
          }
          break;
        }
        case "message.updated":
          upsertInTimeline(utils, fromWire(event.message));
          break;
        case "message.deleted":
          patchInTimeline(utils, event.conversationId, event.messageId, (message) => ({
            ...message,
            content: null,
            reactions: [],
            deletedAt: message.deletedAt ?? new Date(),
          }));
          void utils.conversations.invalidate();
          break;
        case "reaction.updated":
          patchInTimeline(utils, event.conversationId, event.messageId, (message) => ({ ...message, reactions: event.reactions }));
          break;
        case "receipt.updated":
          // The ticks under one's own messages move without waiting for a refetch.
          utils.conversations.get.setData({ conversationId: event.conversationId }, (conversation) =>
            conversation
              ? {
                  ...conversation,
                  positions: conversation.positions.map((position) =>
                    position.userId !== event.userId
                      ? position
                      : {
                          ...position,
                          lastDeliveredSeq: Math.max(position.lastDeliveredSeq, event.upToSeq),
                          lastReadSeq: event.status === "READ" ? Math.max(position.lastReadSeq, event.upToSeq) : position.lastReadSeq,
                        },
                  ),
                }
              : conversation,
          );
          void utils.conversations.invalidate();
          break;
        case "conversation.created":
        case "conversation.members_added":
        case "conversation.member_removed":
        case "conversation.muted":
          void utils.conversations.invalidate();
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

  if (!online) return everLive ? "reconnecting" : "connecting";
  if (subscription.status === "pending" && everLive) return "live";
  if (subscription.status === "pending") return "connecting";
  return everLive ? "reconnecting" : "connecting";
}
