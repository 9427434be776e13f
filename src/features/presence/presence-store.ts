import type { Redis } from "ioredis";

// Where each user's connections and their activity are kept: in memory for one
// instance, in Redis when several share the users. A user is online while any
// connection is active, away while all are idle, offline with none. Redis entries
// carry an expiry refreshed by their instance, so an instance that dies (SIGKILL)
// stops counting within CONNECTION_TTL_MS.

export type ConnectionStatus = "active" | "idle";
export type PresenceStatus = "online" | "away" | "offline";

export interface PresenceStore {
  set(userId: string, connectionId: string, status: ConnectionStatus): Promise<void>;
  remove(userId: string, connectionId: string): Promise<void>;
  /** Sets every connection of the user that exists (a status report without a connection). */
  setAll(userId: string, status: ConnectionStatus): Promise<void>;
  statusOf(userIds: string[]): Promise<Map<string, PresenceStatus>>;
  /**
   * Records the status last announced for the user and returns the one before:
   * shared by all instances, so a change is announced once, by whoever sees it.
   */
  swapAnnounced(userId: string, status: PresenceStatus): Promise<PresenceStatus | null>;
  /** Users last announced online or away (the sweep re-checks them). */
  announcedPresent(): Promise<string[]>;
  close(): Promise<void>;
}

export function aggregate(statuses: ConnectionStatus[]): PresenceStatus {
  if (statuses.length === 0) return "offline";
  return statuses.includes("active") ? "online" : "away";
}

export class InMemoryPresenceStore implements PresenceStore {
  private readonly users = new Map<string, Map<string, ConnectionStatus>>();
  private readonly announced = new Map<string, PresenceStatus>();

  async swapAnnounced(userId: string, status: PresenceStatus) {
    const previous = this.announced.get(userId) ?? null;
    // Offline is the default: forgetting it keeps the map to the users present.
    if (status === "offline") this.announced.delete(userId);
    else this.announced.set(userId, status);
    return previous ?? "offline";
  }

  async announcedPresent() {
    return [...this.announced.keys()];
  }

  async set(userId: string, connectionId: string, status: ConnectionStatus) {
    let connections = this.users.get(userId);
    if (!connections) this.users.set(userId, (connections = new Map()));
    connections.set(connectionId, status);
  }

  async remove(userId: string, connectionId: string) {
    const connections = this.users.get(userId);
    connections?.delete(connectionId);
    if (connections?.size === 0) this.users.delete(userId);
  }

  async setAll(userId: string, status: ConnectionStatus) {
    const connections = this.users.get(userId);
    for (const id of connections?.keys() ?? []) connections!.set(id, status);
  }

  async statusOf(userIds: string[]) {
    return new Map(userIds.map((id) => [id, aggregate([...(this.users.get(id)?.values() ?? [])])]));
  }

  async close() {}
}

export const CONNECTION_TTL_MS = 45_000;
const REFRESH_MS = 15_000;

/** One hash per user: field = connection id, value = "<status>|<expires at ms>". */
export class RedisPresenceStore implements PresenceStore {
  private readonly mine = new Map<string, { userId: string; status: ConnectionStatus }>();
  private readonly refresher: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    // Keeps this instance's connections alive in Redis; a dead instance's expire.
    this.refresher = setInterval(() => void this.refresh(), REFRESH_MS);
    this.refresher.unref();
  }

  private key(userId: string) {
    return `${this.prefix}${userId}`;
  }

  private announcedKey(userId: string) {
    return `${this.prefix}announced:${userId}`;
  }

  async swapAnnounced(userId: string, status: PresenceStatus) {
    const previous = (await this.redis.set(this.announcedKey(userId), status, "GET")) as PresenceStatus | null;
    if (status === "offline") await this.redis.srem(`${this.prefix}present`, userId);
    else await this.redis.sadd(`${this.prefix}present`, userId);
    return previous ?? "offline";
  }

  async announcedPresent() {
    return this.redis.smembers(`${this.prefix}present`);
  }

  private async write(userId: string, connectionId: string, status: ConnectionStatus) {
    const key = this.key(userId);
    await this.redis
      .multi()
      .hset(key, connectionId, `${status}|${Date.now() + CONNECTION_TTL_MS}`)
      .pexpire(key, CONNECTION_TTL_MS * 2)
      .exec();
  }

  async set(userId: string, connectionId: string, status: ConnectionStatus) {
    this.mine.set(connectionId, { userId, status });
    await this.write(userId, connectionId, status);
  }

  async remove(userId: string, connectionId: string) {
    this.mine.delete(connectionId);
    await this.redis.hdel(this.key(userId), connectionId);
  }

  async setAll(userId: string, status: ConnectionStatus) {
    const fields = await this.redis.hgetall(this.key(userId));
    await Promise.all(
      Object.keys(fields).map((connectionId) => {
        const local = this.mine.get(connectionId);
        if (local) local.status = status;
        return this.write(userId, connectionId, status);
      }),
    );
  }

  async statusOf(userIds: string[]) {
    const pipeline = this.redis.pipeline();
    for (const id of userIds) pipeline.hgetall(this.key(id));
    const results = (await pipeline.exec()) ?? [];
    const now = Date.now();
    return new Map(
      userIds.map((id, index) => {
        const fields = (results[index]?.[1] ?? {}) as Record<string, string>;
        const live = Object.values(fields)
          .map((value) => value.split("|"))
          .filter(([, expiresAt]) => Number(expiresAt) > now)
          .map(([status]) => status as ConnectionStatus);
        return [id, aggregate(live)];
      }),
    );
  }

  private async refresh() {
    await Promise.all(
      [...this.mine].map(([connectionId, { userId, status }]) => this.write(userId, connectionId, status).catch(() => undefined)),
    );
  }

  async close() {
    clearInterval(this.refresher);
    await Promise.all(
      [...this.mine].map(([connectionId, { userId }]) => this.redis.hdel(this.key(userId), connectionId).catch(() => undefined)),
    );
    this.mine.clear();
  }
}
