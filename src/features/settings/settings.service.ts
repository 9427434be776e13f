import type { Db } from "~/server/db/client";
import { DomainError } from "~/server/errors";

// Messaging settings as the services need them, read through a short cache: a
// send must not cost a settings query. Changes made on another instance are seen
// within CACHE_TTL_MS.

export interface MessagingLimits {
  enabled: boolean;
  maxMessageLength: number;
  maxGroupParticipants: number;
  typingIndicatorTimeout: number;
  rateLimitPerMinute: number;
}

const CACHE_TTL_MS = 5_000;

const globalForSettings = globalThis as unknown as {
  __chatlineSettingsCache?: { value: MessagingLimits; loadedAt: number };
};

export async function getMessagingLimits(prisma: Db): Promise<MessagingLimits> {
  const cached = globalForSettings.__chatlineSettingsCache;
  if (cached && Date.now() - cached.loadedAt < CACHE_TTL_MS) return cached.value;
  const row = await prisma.messagingSettings.findUnique({
    where: { id: 1 },
    select: { enabled: true, maxMessageLength: true, maxGroupParticipants: true, typingIndicatorTimeout: true, rateLimitPerMinute: true },
  });
  if (!row) throw new Error("messaging_settings has no row: the server seeds it at start");
  globalForSettings.__chatlineSettingsCache = { value: row, loadedAt: Date.now() };
  return row;
}

/** Forget the cached settings (after a change here, or when another instance says so). */
export function invalidateMessagingLimits(): void {
  globalForSettings.__chatlineSettingsCache = undefined;
}

export async function requireMessagingEnabled(prisma: Db): Promise<MessagingLimits> {
  const limits = await getMessagingLimits(prisma);
  if (!limits.enabled) throw new DomainError("FORBIDDEN", "Messaging is turned off by an administrator.");
  return limits;
}
