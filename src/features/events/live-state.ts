"use client";

import { useSyncExternalStore } from "react";

// Ephemeral state from the event stream that lives outside the query cache:
// who is typing where (until their indicator expires) and who is online.

type Listener = () => void;

class LiveState {
  private typing = new Map<string, Map<string, number>>();
  private presence = new Map<string, { status: "online" | "away" | "offline"; lastSeenAt: Date | null }>();
  private listeners = new Set<Listener>();
  private version = 0;
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;

  subscribe = (listener: Listener) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = () => this.version;

  setTyping(conversationId: string, userId: string, isTyping: boolean, expiresAt: number) {
    const users = this.typing.get(conversationId) ?? new Map<string, number>();
    if (isTyping) users.set(userId, expiresAt);
    else users.delete(userId);
    this.typing.set(conversationId, users);
    this.scheduleExpiry();
    this.changed();
  }

  /** Someone who sent a message has stopped typing it. */
  clearTyping(conversationId: string, userId: string) {
    if (this.typing.get(conversationId)?.delete(userId)) this.changed();
  }

  typingIn(conversationId: string): string[] {
    const now = Date.now();
    return [...(this.typing.get(conversationId) ?? [])].filter(([, until]) => until > now).map(([userId]) => userId);
  }

  setPresence(userId: string, status: "online" | "away" | "offline", lastSeenAt: Date | null) {
    this.presence.set(userId, { status, lastSeenAt });
    this.changed();
  }

  presenceOf(userId: string) {
    return this.presence.get(userId);
  }

  private scheduleExpiry() {
    clearTimeout(this.expiryTimer);
    const next = Math.min(...[...this.typing.values()].flatMap((users) => [...users.values()]));
    if (!Number.isFinite(next)) return;
    this.expiryTimer = setTimeout(() => {
      const now = Date.now();
      for (const users of this.typing.values()) for (const [userId, until] of users) if (until <= now) users.delete(userId);
      this.changed();
      this.scheduleExpiry();
    }, Math.max(0, next - Date.now()) + 50);
  }

  private changed() {
    this.version += 1;
    for (const listener of this.listeners) listener();
  }
}

export const liveState = new LiveState();

function useLiveVersion() {
  return useSyncExternalStore(liveState.subscribe, liveState.getVersion, () => 0);
}

export function useTypingUsers(conversationId: string): string[] {
  useLiveVersion();
  return liveState.typingIn(conversationId);
}

export function useLivePresence(userId: string | undefined) {
  useLiveVersion();
  return userId ? liveState.presenceOf(userId) : undefined;
}
