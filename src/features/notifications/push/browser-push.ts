// The browser's side of web push, for the notification settings page: register
// our service worker (public/sw.js), ask for permission, subscribe with the
// installation's VAPID key, and hand back what the server stores. Browser-only;
// the type import below brings no Node code into the bundle.

import { uint8ArrayToUrlBase64, urlBase64ToUint8Array } from "./base64url";
import type { PushSubscriptionKeys } from "./push-sender";

const WORKER_URL = "/sw.js";
const WORKER_SCOPE = "/";

/**
 * Whether this browser can receive web push here. False on http:// other than
 * localhost (not a secure context) and in iOS Safari outside an installed web app.
 */
export function pushSupported(): boolean {
  return (
    typeof window !== "undefined" &&
    window.isSecureContext &&
    "serviceWorker" in navigator &&
    "PushManager" in window &&
    "Notification" in window
  );
}

/** Our worker's registration once it is active: pushManager.subscribe fails before that. */
async function activeRegistration(): Promise<ServiceWorkerRegistration> {
  const existing = await navigator.serviceWorker.getRegistration(WORKER_SCOPE);
  if (!existing) await navigator.serviceWorker.register(WORKER_URL, { scope: WORKER_SCOPE });
  return navigator.serviceWorker.ready;
}

/** This browser's subscription, or null (none, or push unsupported). Registers the worker if needed. */
export async function currentPushSubscription(): Promise<PushSubscription | null> {
  if (!pushSupported()) return null;
  const registration = await activeRegistration();
  return registration.pushManager.getSubscription();
}

function keysOf(subscription: PushSubscription): PushSubscriptionKeys {
  const { endpoint, keys } = subscription.toJSON();
  if (!endpoint || !keys?.p256dh || !keys.auth) throw new Error("This browser returned an incomplete push subscription.");
  return { endpoint, p256dh: keys.p256dh, auth: keys.auth };
}

function sameKey(key: ArrayBuffer | null | undefined, vapidPublicKey: string): boolean {
  return Boolean(key) && uint8ArrayToUrlBase64(key!) === vapidPublicKey.replace(/=+$/, "");
}

/**
 * Subscribes this browser and returns what the server keeps. Call it from a click
 * handler: browsers show the permission prompt only in answer to the person's action.
 */
export async function subscribeToPush(vapidPublicKey: string): Promise<PushSubscriptionKeys> {
  if (!pushSupported()) {
    throw new Error("This browser cannot receive push notifications here (it needs HTTPS, and on iPhone the app added to the home screen).");
  }
  // First, before any other await, while the click still counts as the person's action.
  const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
  if (permission === "denied") {
    throw new Error("Notifications are blocked for this site. Allow them in your browser's site settings, then try again.");
  }
  if (permission !== "granted") throw new Error("Notifications were not allowed. Try again and choose Allow.");

  const registration = await activeRegistration();
  const existing = await registration.pushManager.getSubscription();
  if (existing) {
    if (sameKey(existing.options.applicationServerKey, vapidPublicKey)) return keysOf(existing);
    // Made for another VAPID key (the server's keys changed): subscribe() would refuse
    // while it exists, and pushes signed with the new key would be refused anyway.
    await existing.unsubscribe();
  }
  let subscription: PushSubscription;
  try {
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: urlBase64ToUint8Array(vapidPublicKey),
    });
  } catch (error) {
    const reason = error instanceof Error ? ` (${error.message})` : "";
    throw new Error(`This browser could not subscribe to push notifications${reason}.`, { cause: error });
  }
  return keysOf(subscription);
}

/** Unsubscribes this browser; the endpoint it removed (for the server to forget), or null if there was none. */
export async function unsubscribeFromPush(): Promise<string | null> {
  if (!pushSupported()) return null;
  // No registering here: with no worker there is no subscription to remove.
  const registration = await navigator.serviceWorker.getRegistration(WORKER_SCOPE);
  const subscription = await registration?.pushManager.getSubscription();
  if (!subscription) return null;
  const { endpoint } = subscription;
  await subscription.unsubscribe();
  return endpoint;
}
