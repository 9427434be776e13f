import type { Redis } from "ioredis";

// Where each user's connections and their activity are kept: in memory for one
// instance, in Redis when several share the users. A user is online while any
// connection is active, away while all are idle, offline with none. Redis entries
// carry an expiry refreshed by their instance, so an instance that dies (SIGKILL)
// stops counting within CONNECTION_TTL_MS.

export type ConnectionStatus = "active" | "idle";
export type PresenceStatus = "online" | "away" | "offline";

/** What one connection reports: activity, and the conversation it shows on a visible, focused screen. */
export interface ConnectionState {
  status: ConnectionStatus;
  viewing: string | null;
}

/** A user's presence and the conversations they are looking at (on active connections). */
export interface PresenceSnapshot {
  status: PresenceStatus;
  viewing: ReadonlySet<string>;
}

export interface PresenceStore {
  set(userId: string, connectionId: string, status: ConnectionStatus): Promise<void>;
  remove(userId: string, connectionId: string): Promise<void>;
  /** Changes a connection that exists (a report on it); false when it does not (closed, or never opened). */
  update(userId: string, connectionId: string, patch: Partial<ConnectionState>): Promise<boolean>;
  /** Sets every connection of the user that exists (a status report without a connection). */
  setAll(userId: string, status: ConnectionStatus): Promise<void>;
  statusOf(userIds: string[]): Promise<Map<string, PresenceStatus>>;
  /** Presence and viewed conversations of each user: who is told of a new message depends on both. */
  snapshotOf(userIds: string[]): Promise<Map<string, PresenceSnapshot>>;
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

/** An idle connection's screen is not being looked at, whatever it shows. */
export function snapshotOf(connections: ConnectionState[]): PresenceSnapshot {
  const viewing = new Set<string>();
  for (const connection of connections) if (connection.status === "active" && connection.viewing) viewing.add(connection.viewing);
  return { status: aggregate(connections.map((connection) => connection.status)), viewing };
}

export class InMemoryPresenceStore implements PresenceStore {
  private readonly users = new Map<string, Map<string, ConnectionState>>();
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
    connections.set(connectionId, { status, viewing: connections.get(connectionId)?.viewing ?? null });
  }

  async update(userId: string, connectionId: string, patch: Partial<ConnectionState>) {
    const connection = this.users.get(userId)?.get(connectionId);
    if (!connection) return false;
    Object.assign(connection, definedOnly(patch));
    return true;
  }

  async remove(userId: string, connectionId: string) {
    const connections = this.users.get(userId);
    connections?.delete(connectionId);
    if (connections?.size === 0) this.users.delete(userId);
  }

  async setAll(userId: string, status: ConnectionStatus) {
    for (const connection of this.users.get(userId)?.values() ?? []) connection.status = status;
  }

  async statusOf(userIds: string[]) {
    const snapshots = await this.snapshotOf(userIds);
    return new Map(userIds.map((id) => [id, snapshots.get(id)!.status]));
  }

  async snapshotOf(userIds: string[]) {
    return new Map(userIds.map((id) => [id, snapshotOf([...(this.users.get(id)?.values() ?? [])])]));
  }

  async close() {}
}

export const CONNECTION_TTL_MS = 45_000;
const REFRESH_MS = 15_000;

/** One hash per user: field = connection id, value = "<status>|<expires at ms>|<viewed conversation or empty>". */
export class RedisPresenceStore implements PresenceStore {
  private readonly mine = new Map<string, { userId: string } & ConnectionState>();
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

  private async write(userId: string, connectionId: string, state: ConnectionState) {
    const key = this.key(userId);
    await this.redis
      .multi()
      .hset(key, connectionId, `${state.status}|${Date.now() + CONNECTION_TTL_MS}|${state.viewing ?? ""}`)
      .pexpire(key, CONNECTION_TTL_MS * 2)
      .exec();
  }

  async set(userId: string, connectionId: string, status: ConnectionStatus) {
    const state = { status, viewing: this.mine.get(connectionId)?.viewing ?? null };
    this.mine.set(connectionId, { userId, ...state });
    await this.write(userId, connectionId, state);
  }

  async update(userId: string, connectionId: string, patch: Partial<ConnectionState>) {
    const local = this.mine.get(connectionId);
    if (local) {
      if (local.userId !== userId) return false;
      Object.assign(local, definedOnly(patch));
      await this.write(userId, connectionId, local);
      return true;
    }
    // Another instance holds the connection: change it in place, and leave its refresh to that instance.
    const current = await this.redis.hget(this.key(userId), connectionId);
    const parsed = current ? parseConnection(current, Date.now()) : null;
    if (!parsed) return false;
    await this.write(userId, connectionId, { ...parsed, ...definedOnly(patch) });
    return true;
  }

  async remove(userId: string, connectionId: string) {
    this.mine.delete(connectionId);
    await this.redis.hdel(this.key(userId), connectionId);
  }

  async setAll(userId: string, status: ConnectionStatus) {
    const fields = await this.redis.hgetall(this.key(userId));
    const now = Date.now();
    await Promise.all(
      Object.entries(fields).map(([connectionId, value]) => {
        const local = this.mine.get(connectionId);
        if (local) local.status = status;
        const parsed = parseConnection(value, now);
        return parsed ? this.write(userId, connectionId, { ...parsed, status }) : undefined;
      }),
    );
  }

  async statusOf(userIds: string[]) {
    const snapshots = await this.snapshotOf(userIds);
    return new Map(userIds.map((id) => [id, snapshots.get(id)!.status]));
  }

  async snapshotOf(userIds: string[]) {
    const pipeline = this.redis.pipeline();
    for (const id of userIds) pipeline.hgetall(this.key(id));
    const results = (await pipeline.exec()) ?? [];
    const now = Date.now();
    return new Map(
      userIds.map((id, index) => {
        const fields = (results[index]?.[1] ?? {}) as Record<string, string>;
        const live = Object.values(fields).flatMap((value) => parseConnection(value, now) ?? []);
        return [id, snapshotOf(live)];
      }),
    );
  }

  private async refresh() {
    await Promise.all(
      [...this.mine].map(([connectionId, state]) => this.write(state.userId, connectionId, state).catch(() => undefined)),
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

/** A stored connection, or null when it expired; earlier versions stored no viewed conversation. */
function parseConnection(value: string, now: number): ConnectionState | null {
  const [status, expiresAt, viewing] = value.split("|");
  if (!(Number(expiresAt) > now)) return null;
  return { status: status as ConnectionStatus, viewing: viewing || null };
}

function definedOnly(patch: Partial<ConnectionState>): Partial<ConnectionState> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
}
