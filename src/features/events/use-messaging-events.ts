"use client";

import { useState } from "react";
import type { Message } from "~/features/messages/contracts";
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

/** The page of a conversation the views show (the newest messages). */
export const LATEST_PAGE = 50;

export function useMessagingEvents(): StreamStatus {
  const utils = api.useUtils();
  const [everLive, setEverLive] = useState(false);

  const patchMessages = (conversationId: string, patch: (items: Message[]) => Message[]) => {
    utils.messages.list.setData({ conversationId, limit: LATEST_PAGE }, (page) =>
      page ? { ...page, items: patch(page.items) } : page,
    );
  };

  const subscription = api.events.onEvent.useSubscription(undefined, {
    onData(item) {
      const event = unwrap(item as unknown as ClientEvent | { id: string; data: ClientEvent });
      switch (event.type) {
        case "ready":
          setEverLive(true);
          // Anything could have happened while we were away.
          void utils.conversations.invalidate();
          void utils.messages.list.invalidate();
          break;
        case "message.created": {
          const message = fromWire(event.message);
          if (message.senderId) liveState.clearTyping(message.conversationId, message.senderId);
          patchMessages(message.conversationId, (items) =>
            items.some((item) => item.id === message.id) ? items : [...items, message],
          );
          void utils.conversations.invalidate();
          break;
        }
        case "message.updated": {
          const message = fromWire(event.message);
          patchMessages(message.conversationId, (items) => items.map((item) => (item.id === message.id ? message : item)));
          break;
        }
        case "message.deleted":
          patchMessages(event.conversationId, (items) =>
            items.map((item) =>
              item.id === event.messageId ? { ...item, content: null, reactions: [], deletedAt: new Date() } : item,
            ),
          );
          void utils.conversations.invalidate();
          break;
        case "reaction.updated":
          patchMessages(event.conversationId, (items) =>
            items.map((item) => (item.id === event.messageId ? { ...item, reactions: event.reactions } : item)),
          );
          break;
        case "conversation.created":
        case "conversation.members_added":
        case "conversation.member_removed":
        case "conversation.muted":
        case "receipt.updated":
          void utils.conversations.invalidate();
          break;
        case "typing":
          liveState.setTyping(event.conversationId, event.userId, event.isTyping, Date.parse(event.expiresAt));
          break;
        case "presence":
          liveState.setPresence(event.userId, event.status, event.lastSeenAt ? new Date(event.lastSeenAt) : null);
          break;
        default:
          break;
      }
    },
  });

  if (subscription.status === "pending" && everLive) return "live";
  if (subscription.status === "pending") return "connecting";
  return everLive ? "reconnecting" : "connecting";
}
