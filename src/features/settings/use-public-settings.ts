"use client";

import { api } from "~/trpc/react";
import type { PublicMessagingSettings } from "./contracts";

// The messaging settings every signed-in client follows (whether messaging is on,
// message length, group size, attachments). A change by an admin arrives as a
// settings.updated event, which useMessagingEvents writes into this query's cache,
// so inputs follow it without a reload.

type Utils = ReturnType<typeof api.useUtils>;

/** The public settings; `initial` (rendered by the server) shows them before the first fetch. */
export function usePublicSettings(initial: PublicMessagingSettings): PublicMessagingSettings;
export function usePublicSettings(initial?: PublicMessagingSettings): PublicMessagingSettings | undefined;
export function usePublicSettings(initial?: PublicMessagingSettings): PublicMessagingSettings | undefined {
  const query = api.settings.public.useQuery(undefined, { initialData: initial });
  return query.data ?? initial;
}

/** Puts the settings of a settings.updated event into the cache usePublicSettings reads. */
export function applySettingsEvent(utils: Utils, settings: PublicMessagingSettings): void {
  utils.settings.public.setData(undefined, settings);
}
