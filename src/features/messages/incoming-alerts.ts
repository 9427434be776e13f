"use client";

import { useSyncExternalStore } from "react";

// Browser notifications and a short sound for messages that arrive in a
// conversation the person is not looking at. Both are opt-in: permission is asked
// only when they switch notifications on, never on load.

export interface AlertPreferences {
  desktop: boolean;
  sound: boolean;
}

const PREFERENCES_KEY = "chatline:alerts";
const DEFAULTS: AlertPreferences = { desktop: false, sound: false };
const listeners = new Set<() => void>();
let cached: AlertPreferences | undefined;

function readPreferences(): AlertPreferences {
  if (cached) return cached;
  try {
    cached = { ...DEFAULTS, ...(JSON.parse(window.localStorage.getItem(PREFERENCES_KEY) ?? "{}") as Partial<AlertPreferences>) };
  } catch {
    cached = DEFAULTS;
  }
  return cached;
}

export function setAlertPreferences(next: Partial<AlertPreferences>) {
  cached = { ...readPreferences(), ...next };
  try {
    window.localStorage.setItem(PREFERENCES_KEY, JSON.stringify(cached));
  } catch {
    // Kept for this page only.
  }
  for (const listener of listeners) listener();
}

export function useAlertPreferences(): AlertPreferences {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    readPreferences,
    () => DEFAULTS,
  );
}

/** Asks for permission (call it from a click) and turns desktop notifications on if granted. */
export async function enableDesktopNotifications(): Promise<NotificationPermission | "unsupported"> {
  if (typeof Notification === "undefined") return "unsupported";
  const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
  setAlertPreferences({ desktop: permission === "granted" });
  return permission;
}

/** The conversation on screen, if any; set by the conversation view. */
let openConversationId: string | null = null;
const openConversationListeners = new Set<() => void>();

export function setOpenConversation(conversationId: string | null) {
  if (openConversationId === conversationId) return;
  openConversationId = conversationId;
  for (const listener of openConversationListeners) listener();
}

export function getOpenConversation(): string | null {
  return openConversationId;
}

/** Calls `listener` whenever the conversation on screen changes; returns the unsubscribe. */
export function subscribeToOpenConversation(listener: () => void): () => void {
  openConversationListeners.add(listener);
  return () => openConversationListeners.delete(listener);
}

function isLookingAt(conversationId: string): boolean {
  return openConversationId === conversationId && document.visibilityState === "visible" && document.hasFocus();
}

let audioContext: AudioContext | undefined;

/** Two soft tones, made on the spot: no sound file to load. */
function playChime() {
  try {
    audioContext ??= new AudioContext();
    const now = audioContext.currentTime;
    for (const [index, frequency] of [880, 1320].entries()) {
      const oscillator = audioContext.createOscillator();
      const gain = audioContext.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + index * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.15, now + index * 0.12 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + index * 0.12 + 0.25);
      oscillator.connect(gain).connect(audioContext.destination);
      oscillator.start(now + index * 0.12);
      oscillator.stop(now + index * 0.12 + 0.3);
    }
  } catch {
    // Audio blocked until the page has had a user gesture: stay silent.
  }
}

/** Messages older than this when they reach us are catch-up after a reconnect: no burst of alerts for them. */
const ALERT_MAX_AGE_MS = 60_000;
const CLAIMS_KEY = "chatline:alerted";

/**
 * Every open tab of the person receives the same event: the first to claim it
 * decides (and alerts, unless the person is looking at that conversation there).
 */
function claim(messageId: string): boolean {
  try {
    const claimed = JSON.parse(window.localStorage.getItem(CLAIMS_KEY) ?? "[]") as string[];
    if (claimed.includes(messageId)) return false;
    window.localStorage.setItem(CLAIMS_KEY, JSON.stringify([...claimed.slice(-49), messageId]));
  } catch {
    // No storage: each tab decides for itself.
  }
  return true;
}

export interface IncomingMessage {
  messageId: string;
  createdAt: Date;
  conversationId: string;
  title: string;
  senderName: string;
  text: string;
  muted: boolean;
  onOpen: () => void;
}

export function alertIncoming(incoming: IncomingMessage) {
  if (Date.now() - incoming.createdAt.getTime() > ALERT_MAX_AGE_MS || !claim(incoming.messageId)) return;
  if (incoming.muted || isLookingAt(incoming.conversationId)) return;
  const preferences = readPreferences();
  if (preferences.sound) playChime();
  if (!preferences.desktop || typeof Notification === "undefined" || Notification.permission !== "granted") return;
  const notification = new Notification(incoming.title, {
    body: incoming.title === incoming.senderName ? incoming.text : `${incoming.senderName}: ${incoming.text}`,
    tag: `chatline:${incoming.conversationId}`,
  });
  notification.onclick = () => {
    window.focus();
    incoming.onOpen();
    notification.close();
  };
}
