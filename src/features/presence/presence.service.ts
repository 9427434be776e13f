import type { EventHub } from "~/features/events/event-hub";
import type { Db } from "~/server/db/client";
import type { Logger } from "~/server/logger";
import type { ConnectionStatus, PresenceSnapshot, PresenceStatus, PresenceStore } from "./presence-store";

// Presence transitions: a user's first connection makes them online, reports of
// idleness make them away, and their last connection closing makes them offline
// after a short grace (a reload or a network blip reconnects within it). Each
// change is sent to the people who share a conversation with them.

export interface PresenceOptions {
  offlineGraceMs?: number;
}

const CONTACTS_TTL_MS = 10_000;
const CONTACTS_CACHE_SIZE = 5_000;
/** How often users whose instance died are looked for (their connections expire in the store). */
const SWEEP_MS = 15_000;

export class PresenceService {
  private readonly contactsCache = new Map<string, { ids: string[]; loadedAt: number }>();
  /** Subscriptions per connection: a socket may carry more than one. */
  private readonly subscriptions = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly offlineGraceMs: number;

  constructor(
    private readonly store: PresenceStore,
    private readonly prisma: Db,
    private readonly hub: EventHub,
    private readonly log: Logger,
    options: PresenceOptions = {},
  ) {
    this.offlineGraceMs = options.offlineGraceMs ?? 5_000;
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  async connected(userId: string, connectionId: string): Promise<void> {
    this.subscriptions.set(connectionId, (this.subscriptions.get(connectionId) ?? 0) + 1);
    await this.store.set(userId, connectionId, "active");
    await this.announceIfChanged(userId);
  }

  async disconnected(userId: string, connectionId: string): Promise<void> {
    const remaining = (this.subscriptions.get(connectionId) ?? 1) - 1;
    if (remaining > 0) {
      this.subscriptions.set(connectionId, remaining);
      return;
    }
    this.subscriptions.delete(connectionId);
    await this.store.remove(userId, connectionId);
    await this.prisma.user.update({ where: { id: userId }, data: { lastSeenAt: new Date() } }).catch(() => undefined);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.announceIfChanged(userId).catch((error: unknown) => this.log.warn({ err: error }, "presence update failed"));
    }, this.offlineGraceMs);
    timer.unref();
    this.timers.add(timer);
  }

  /**
   * A client's report that it is active or idle, and which conversation it shows
   * (undefined: unchanged). On a connection it applies to that one, if its event
   * stream is open; without one, only the status, to all of the user's (which
   * screen shows what cannot be told without the connection).
   */
  async report(userId: string, connectionId: string | null, status: ConnectionStatus | undefined, viewing?: string | null): Promise<void> {
    if (connectionId) await this.store.update(userId, connectionId, { status, viewing });
    else if (status) await this.store.setAll(userId, status);
    if (status) await this.announceIfChanged(userId);
  }

  /** Presence and viewed conversations of these users, as the notifier needs them. */
  snapshotOf(userIds: string[]): Promise<Map<string, PresenceSnapshot>> {
    return this.store.snapshotOf(userIds);
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
    clearInterval(this.sweeper);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Users announced present whose connections are all gone (their instance died) become offline. */
  private async sweep() {
    try {
      const present = await this.store.announcedPresent();
      for (let start = 0; start < present.length; start += 500) {
        const statuses = await this.store.statusOf(present.slice(start, start + 500));
        for (const [userId, status] of statuses) if (status === "offline") await this.announceIfChanged(userId);
      }
    } catch (error) {
      this.log.warn({ err: error }, "presence sweep failed");
    }
  }

  private async announceIfChanged(userId: string) {
    const status = (await this.store.statusOf([userId])).get(userId) ?? "offline";
    const previous = await this.store.swapAnnounced(userId, status);
    if (previous === status) return;
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
    this.contactsCache.delete(userId);
    this.contactsCache.set(userId, { ids, loadedAt: Date.now() });
    // Oldest first in a Map: drop from the front to stay bounded.
    while (this.contactsCache.size > CONTACTS_CACHE_SIZE) {
      this.contactsCache.delete(this.contactsCache.keys().next().value!);
    }
    return ids;
  }
}
