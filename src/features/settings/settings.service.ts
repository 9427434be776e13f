import { recordAudit } from "~/features/audit/audit.service";
import type { Db } from "~/server/db/client";
import { DomainError } from "~/server/errors";
import type { Logger } from "~/server/logger";
import type { EventBus } from "~/server/realtime/event-bus";
import {
  ATTACHMENTS_NEED_A_TYPE,
  SETTINGS_KEYS,
  toPublicSettings,
  type MessagingSettings,
  type MessagingSettingsOutput,
  type PublicMessagingSettings,
  type SettingsChange,
  type SettingsHistoryOutput,
  type SettingsKey,
  type UpdateMessagingSettingsInput,
} from "./contracts";

// Messaging settings as the services need them, read through a short cache: a
// send must not cost a settings query. A change made here is announced on the
// bus, and every instance forgets its cache when it hears it (settings-sync.ts);
// the expiry below is only the fallback for a notice the bus lost.

/**
 * What services read through the cache: the public view, the send limit, and the
 * email digest timing (minutes offline before a digest; least minutes between two
 * digests to one person). The server-only fields never reach clients
 * (getPublicSettings picks the public ones).
 */
export type MessagingLimits = PublicMessagingSettings & {
  rateLimitPerMinute: number;
  emailDigestAfterMinutes: number;
  emailDigestIntervalMinutes: number;
};

const CACHE_TTL_MS = 5_000;

const globalForSettings = globalThis as unknown as {
  __chatlineSettingsCache?: { value: MessagingLimits; loadedAt: number };
  /** Counts invalidations, so a read that raced one does not cache what it read. */
  __chatlineSettingsGeneration?: number;
};

const LIMITS_SELECT = {
  enabled: true,
  maxMessageLength: true,
  maxGroupParticipants: true,
  typingIndicatorTimeout: true,
  allowFileAttachments: true,
  maxFileSize: true,
  allowedFileTypes: true,
  rateLimitPerMinute: true,
  emailDigestAfterMinutes: true,
  emailDigestIntervalMinutes: true,
} as const satisfies Record<keyof MessagingLimits, true>;

const SETTINGS_SELECT = Object.fromEntries(SETTINGS_KEYS.map((key) => [key, true])) as Record<SettingsKey, true>;

function missingRow(): never {
  throw new Error("messaging_settings has no row: the server seeds it at start");
}

export async function getMessagingLimits(prisma: Db): Promise<MessagingLimits> {
  const cached = globalForSettings.__chatlineSettingsCache;
  if (cached && Date.now() - cached.loadedAt < CACHE_TTL_MS) return cached.value;
  const generation = globalForSettings.__chatlineSettingsGeneration ?? 0;
  const row = await prisma.messagingSettings.findUnique({ where: { id: 1 }, select: LIMITS_SELECT });
  if (!row) missingRow();
  // A change announced while we were reading may be newer than what we read.
  if ((globalForSettings.__chatlineSettingsGeneration ?? 0) === generation) {
    globalForSettings.__chatlineSettingsCache = { value: row, loadedAt: Date.now() };
  }
  return row;
}

/** Forget the cached settings (after a change here, or when another instance says so). */
export function invalidateMessagingLimits(): void {
  globalForSettings.__chatlineSettingsGeneration = (globalForSettings.__chatlineSettingsGeneration ?? 0) + 1;
  globalForSettings.__chatlineSettingsCache = undefined;
}

export async function requireMessagingEnabled(prisma: Db): Promise<MessagingLimits> {
  const limits = await getMessagingLimits(prisma);
  if (!limits.enabled) throw new DomainError("FORBIDDEN", "Messaging is turned off by an administrator.");
  return limits;
}

/** settings.public: whether messaging is on and the limits clients follow (from the cache). */
export async function getPublicSettings(prisma: Db): Promise<PublicMessagingSettings> {
  return toPublicSettings(await getMessagingLimits(prisma));
}

/** settings.get: every setting, read fresh, with who changed them last. */
export async function getMessagingSettings(prisma: Pick<Db, "messagingSettings">): Promise<MessagingSettingsOutput> {
  const row = await prisma.messagingSettings.findUnique({
    where: { id: 1 },
    select: { ...SETTINGS_SELECT, updatedAt: true, updatedBy: { select: { id: true, name: true } } },
  });
  return row ?? missingRow();
}

/** The bus message that says "the settings changed": each instance re-reads them. */
export const SETTINGS_NOTICE = JSON.stringify({ kind: "settings.updated" });

/** Tells every instance (this one included) that the settings changed. */
export async function announceSettingsChange(bus: Pick<EventBus, "publish">): Promise<void> {
  await bus.publish("control", SETTINGS_NOTICE);
}

export interface SettingsDeps {
  prisma: Db;
  /** Where the change is announced to every instance (this one included). */
  bus: Pick<EventBus, "publish">;
  log: Logger;
}

export interface SettingsActor {
  userId: string;
  ip: string | null;
  userAgent: string | null;
}

type SettingValue = MessagingSettings[SettingsKey];
/** What the audit log records: each changed setting, before and after. */
type SettingsChanges = Partial<Record<SettingsKey, { from: SettingValue; to: SettingValue }>>;

function changedFields(before: MessagingSettings, input: UpdateMessagingSettingsInput): SettingsChanges {
  const changes: SettingsChanges = {};
  for (const key of SETTINGS_KEYS) {
    const to = input[key];
    if (to === undefined) continue;
    const from = before[key];
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[key] = { from, to };
  }
  return changes;
}

/**
 * settings.update: changes the given settings, records who changed what (before
 * and after) in the audit log in the same transaction, and tells every instance,
 * which forgets its cached limits and passes the public view to its subscribers.
 * Submitting the current values changes nothing and announces nothing.
 */
export async function updateMessagingSettings(
  deps: SettingsDeps,
  actor: SettingsActor,
  input: UpdateMessagingSettingsInput,
): Promise<MessagingSettingsOutput> {
  const { changes, current } = await deps.prisma.$transaction(async (tx) => {
    // Two admins saving at once: the second sees the first's values as "before".
    await tx.$executeRaw`SELECT 1 FROM messaging_settings WHERE id = 1 FOR UPDATE`;
    const before = await tx.messagingSettings.findUnique({ where: { id: 1 }, select: SETTINGS_SELECT });
    if (!before) missingRow();
    const after = { ...before, ...definedOnly(input) };
    if (after.allowFileAttachments && after.allowedFileTypes.length === 0) {
      throw new DomainError("BAD_REQUEST", ATTACHMENTS_NEED_A_TYPE);
    }
    const changes = changedFields(before, input);
    const changed = Object.keys(changes) as SettingsKey[];
    if (changed.length === 0) return { changes, current: await getMessagingSettings(tx) };
    await tx.messagingSettings.update({
      where: { id: 1 },
      data: { ...Object.fromEntries(changed.map((key) => [key, after[key]])), updatedById: actor.userId },
    });
    await recordAudit(tx, {
      actorId: actor.userId,
      action: "settings.updated",
      targetType: "messaging_settings",
      targetId: "1",
      metadata: { changes },
      ip: actor.ip,
      userAgent: actor.userAgent,
    });
    return { changes, current: await getMessagingSettings(tx) };
  });

  if (Object.keys(changes).length > 0) {
    // This instance at once, whatever happens to the notice; the others when it arrives.
    invalidateMessagingLimits();
    await announceSettingsChange(deps.bus).catch((error: unknown) => {
      deps.log.warn({ err: error }, "announcing a settings change failed; other instances see it when their cache expires");
    });
  }
  return current;
}

function definedOnly<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** settings.history: the recorded changes (audit_log "settings.updated"), newest first. */
export async function listSettingsHistory(
  prisma: Pick<Db, "auditLog">,
  input: { cursor?: string | null; limit: number },
): Promise<SettingsHistoryOutput> {
  const rows = await prisma.auditLog.findMany({
    where: { action: "settings.updated" },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    ...(input.cursor ? { cursor: { id: BigInt(input.cursor) }, skip: 1 } : {}),
    take: input.limit + 1,
    select: { id: true, createdAt: true, metadata: true, actor: { select: { id: true, name: true, email: true } } },
  });
  const page = rows.slice(0, input.limit);
  return {
    items: page.map((row) => ({ id: row.id.toString(), at: row.createdAt, actor: row.actor, changes: recordedChanges(row.metadata) })),
    nextCursor: rows.length > input.limit ? page[page.length - 1]!.id.toString() : null,
  };
}

/** The `changes` an update recorded, in the order of SETTINGS_KEYS; anything else in the row is ignored. */
function recordedChanges(metadata: unknown): SettingsChange["changes"] {
  const changes = isObject(metadata) && isObject(metadata.changes) ? metadata.changes : {};
  return SETTINGS_KEYS.flatMap((field) => {
    const change = changes[field];
    if (!isObject(change)) return [];
    return [{ field, from: settingValue(change.from), to: settingValue(change.to) }];
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function settingValue(value: unknown): SettingsChange["changes"][number]["from"] {
  if (typeof value === "boolean" || typeof value === "number" || typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(String);
  return null;
}
