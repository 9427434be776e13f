"use client";

// What someone started writing in a conversation stays there across navigation and
// reloads, per user and conversation, until it is sent or cleared.

const key = (userId: string, conversationId: string) => `chatline:draft:${userId}:${conversationId}`;

export function loadDraft(userId: string, conversationId: string): string {
  try {
    return window.localStorage.getItem(key(userId, conversationId)) ?? "";
  } catch {
    return "";
  }
}

export function saveDraft(userId: string, conversationId: string, text: string) {
  try {
    if (text.trim()) window.localStorage.setItem(key(userId, conversationId), text);
    else window.localStorage.removeItem(key(userId, conversationId));
  } catch {
    // Storage blocked: the draft lives as long as the page.
  }
}
