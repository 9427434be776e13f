import type { Db } from "~/server/db/client";
import type { Logger } from "~/server/logger";
import type { EventBus } from "~/server/realtime/event-bus";
import type { PublicMessagingSettings } from "./contracts";
import { getPublicSettings, invalidateMessagingLimits, SETTINGS_NOTICE } from "./settings.service";

// Every instance follows settings changes on the bus's control channel: it
// forgets its cached limits at once (the next send reads the new ones), reads
// the settings afresh and hands their public view to its own subscribers.
// Notices are handled one after another and each re-reads the row, so the last
// view an instance passes on is the one committed last, whatever order the
// notices of two quick changes arrive in.

export function followSettingsChanges(options: {
  bus: Pick<EventBus, "subscribe">;
  prisma: Db;
  log: Logger;
  /** Passes the new public view to this instance's subscribers. */
  deliver: (settings: PublicMessagingSettings) => void;
}): () => void {
  let stopped = false;
  let queue = Promise.resolve();
  const unsubscribe = options.bus.subscribe("control", (message) => {
    if (message !== SETTINGS_NOTICE) return;
    invalidateMessagingLimits();
    queue = queue.then(async () => {
      if (stopped) return;
      try {
        const settings = await getPublicSettings(options.prisma);
        if (!stopped) options.deliver(settings);
      } catch (error) {
        options.log.warn({ err: error }, "reading the changed messaging settings failed");
      }
    });
  });
  return () => {
    stopped = true;
    unsubscribe();
  };
}
