// Chatline's service worker: shows web pushes and opens their conversation on a
// click. Plain JS served as is from /sw.js, so its scope is the whole origin.
// The payload comes from src/features/notifications/push/push-sender.ts:
// { title, body, link, tag, notificationId? }.
/* global self, URL */

// A new version takes over at once: it only shows notifications, there is no
// cache whose versions could disagree with the open pages.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

/** A path of ours for `link`; "/" for anything else, so a push cannot send anyone off-site. */
function sameOriginPath(link) {
  try {
    const url = new URL(typeof link === "string" ? link : "/", self.location.origin);
    if (url.origin === self.location.origin) return url.pathname + url.search + url.hash;
  } catch {
    // Not a URL at all.
  }
  return "/";
}

self.addEventListener("push", (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch {
    // Unreadable: still show something. Subscriptions promise a visible notification
    // per push (userVisibleOnly), and browsers warn or revoke the permission otherwise.
  }
  const title = typeof payload.title === "string" && payload.title ? payload.title : "Chatline";
  const options = {
    body: typeof payload.body === "string" ? payload.body : "You have new messages.",
    icon: "/icon.svg",
    data: { link: sameOriginPath(payload.link), notificationId: payload.notificationId ?? null },
  };
  if (typeof payload.tag === "string" && payload.tag) {
    // Same tag: the conversation's notification is replaced; renotify makes the
    // replacement sound and vibrate again instead of changing silently.
    options.tag = payload.tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(sameOriginPath(event.notification.data?.link), self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const client = windows.find((candidate) => candidate.focused) ?? windows[0];
      if (client) {
        try {
          // Focus first: the click's permission to raise a window does not last long.
          await client.focus();
        } catch {
          // Not allowed to: navigating or opening a window still shows the conversation.
        }
        if (client.url === target) return;
        try {
          // navigate() works only on windows this worker controls; it rejects otherwise.
          if ("navigate" in client && (await client.navigate(target))) return;
        } catch {
          // Fall through to a new window.
        }
      }
      await self.clients.openWindow(target);
    })(),
  );
});
