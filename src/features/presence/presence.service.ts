import type { EventHub } from "~/features/events/event-hub";
import type { Db } from "~/server/db/client";
import type { Logger } from "~/server/logger";
import type { ConnectionStatus, PresenceStatus, PresenceStore } from "./presence-store";

// Presence transitions: a user's first connection makes them online, reports of
// idleness make them away, and their last connection closing makes them offline
// after a short grace (a reload or a network blip reconnects within it). Each
// change is sent to the people who share a conversation with them.

export interface PresenceOptions {
  offlineGraceMs?: number;
}

const CONTACTS_TTL_MS = 60_000;

export class PresenceService {
  private readonly announced = new Map<string, PresenceStatus>();
  private readonly contactsCache = new Map<string, { ids: string[]; loadedAt: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly offlineGraceMs: number;

  constructor(
    private readonly store: PresenceStore,
    private readonly prisma: Db,
    private readonly hub: EventHub,
    private readonly log: Logger,
    options: PresenceOptions = {},
  ) {
    this.offlineGraceMs = options.offlineGraceMs ?? 5_000;
  }

  async connected(userId: string, connectionId: string): Promise<void> {
    await this.store.set(userId, connectionId, "active");
    await this.announceIfChanged(userId);
  }

  async disconnected(userId: string, connectionId: string): Promise<void> {
    await this.store.remove(userId, connectionId);
    await this.prisma.user.update({ where: { id: userId }, data: { lastSeenAt: new Date() } }).catch(() => undefined);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.announceIfChanged(userId).catch((error: unknown) => this.log.warn({ err: error }, "presence update failed"));
    }, this.offlineGraceMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** A client's report that it is active or idle; without a connection it applies to all of the user's. */
  async report(userId: string, connectionId: string | null, status: ConnectionStatus): Promise<void> {
    if (connectionId) await this.store.set(userId, connectionId, status);
    else await this.store.setAll(userId, status);
    await this.announceIfChanged(userId);
  }

  async get(userIds: string[]): Promise<{ userId: string; status: PresenceStatus; lastSeenAt: Date | null }[]> {
    const [statuses, users] = await Promise.all([
      this.store.statusOf(userIds),
      this.prisma.user.findMany({ where: { id: { in: userIds } }, select: { id: true, lastSeenAt: true } }),
    ]);
    const lastSeen = new Map(users.map((user) => [user.id, user.lastSeenAt]));
    return userIds
      .filter((id) => lastSeen.has(id))
      .map((id) => ({ userId: id, status: statuses.get(id) ?? "offline", lastSeenAt: lastSeen.get(id) ?? null }));
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async announceIfChanged(userId: string) {
    const status = (await this.store.statusOf([userId])).get(userId) ?? "offline";
    if (this.announced.get(userId) === status) return;
    this.announced.set(userId, status);
    const lastSeenAt = status === "online" ? null : new Date();
    await this.hub.publishEphemeral({
      userIds: [userId, ...(await this.contactsOf(userId))],
      event: { type: "presence", userId, status, lastSeenAt: lastSeenAt?.toISOString() ?? null },
    });
  }

  /** People who share a conversation with the user: the ones who see their presence. */
  private async contactsOf(userId: string): Promise<string[]> {
    const cached = this.contactsCache.get(userId);
    if (cached && Date.now() - cached.loadedAt < CONTACTS_TTL_MS) return cached.ids;
    const rows = await this.prisma.$queryRaw<{ user_id: string }[]>`
      SELECT DISTINCT other.user_id FROM conversation_participants me
        JOIN conversation_participants other ON other.conversation_id = me.conversation_id
       WHERE me.user_id = ${userId}::uuid AND me.left_at IS NULL AND other.left_at IS NULL AND other.user_id <> me.user_id`;
    const ids = rows.map((row) => row.user_id);
    this.contactsCache.set(userId, { ids, loadedAt: Date.now() });
    return ids;
  }
}
