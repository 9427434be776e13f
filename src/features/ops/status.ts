import type { Redis } from "ioredis";
import { z } from "zod";
import type { EventHub } from "~/features/events/event-hub";
import { instanceId } from "~/server/instance";
import type { Logger } from "~/server/logger";
import { ACTIVE_WINDOW_MS, instanceActivity } from "./activity";

// The messaging status of every instance. Each instance writes a small snapshot
// of itself to Redis every few seconds (`chatline:<installation>:status:<instanceId>`,
// expiring after three missed beats, deleted on shutdown); a reader sums what is
// there, with its own numbers taken live. Users and conversations are counted
// once in the total even when several instances see them (the snapshots carry
// their ids, the response only counts). Without Redis: this process only.

export const instanceStatusSchema = z.object({
  instanceId: z.string(),
  reportedAt: z.string(),
  /** Open WebSocket connections. */
  sockets: z.number().int(),
  /** Open event subscriptions (events.onEvent), normally one per socket. */
  subscribers: z.number().int(),
  /** Distinct users with an event subscription here. */
  onlineUsers: z.number().int(),
  /** Distinct users whose typing indicator, reported through this instance, has not expired. */
  typingUsers: z.number().int(),
  /** Conversations with a message sent or someone typing through this instance in the active window. */
  activeConversations: z.number().int(),
});
export type InstanceStatus = z.infer<typeof instanceStatusSchema>;

export const messagingStatusSchema = z.object({
  generatedAt: z.string(),
  /** The window that makes a conversation active. */
  activeWindowSeconds: z.number().int(),
  /** Where other instances' numbers came from: Redis, or none (this process only). */
  source: z.enum(["redis", "process"]),
  /** False when Redis could not be read: the report is this instance's alone. */
  complete: z.boolean(),
  total: instanceStatusSchema.omit({ instanceId: true, reportedAt: true }).extend({ instances: z.number().int() }),
  instances: z.array(instanceStatusSchema),
});
export type MessagingStatus = z.infer<typeof messagingStatusSchema>;

interface Heartbeat extends InstanceStatus {
  onlineUserIds: string[];
  typingUserIds: string[];
  activeConversationIds: string[];
}

export const STATUS_HEARTBEAT_MS = 5_000;

export interface StatusReporterOptions {
  redis: Redis | null;
  /** The installation's Redis key prefix (`chatline:<installation>:`). */
  prefix: string;
  sockets: () => number;
  /** This process's event hub, once messaging has started one. */
  hub: () => EventHub | undefined;
  log: Logger;
  intervalMs?: number;
}

export class StatusReporter {
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private closed = false;

  constructor(private readonly options: StatusReporterOptions) {
    this.intervalMs = options.intervalMs ?? STATUS_HEARTBEAT_MS;
    if (options.redis) {
      void this.beat();
      this.timer = setInterval(() => void this.beat(), this.intervalMs);
      this.timer.unref();
    }
  }

  private get key() {
    return `${this.options.prefix}status:${instanceId}`;
  }

  /** This instance now. */
  local(): Heartbeat {
    const hub = this.options.hub()?.stats() ?? { subscribers: 0, userIds: [] };
    const activity = instanceActivity().snapshot();
    return {
      instanceId,
      reportedAt: new Date().toISOString(),
      sockets: this.options.sockets(),
      subscribers: hub.subscribers,
      onlineUsers: hub.userIds.length,
      typingUsers: activity.typingUserIds.length,
      activeConversations: activity.activeConversationIds.length,
      onlineUserIds: hub.userIds,
      typingUserIds: activity.typingUserIds,
      activeConversationIds: activity.activeConversationIds,
    };
  }

  private async beat() {
    if (this.closed || !this.options.redis) return;
    try {
      await this.options.redis.set(this.key, JSON.stringify(this.local()), "PX", this.intervalMs * 3);
    } catch (error) {
      this.options.log.warn({ err: error }, "status heartbeat failed");
    }
  }

  /** Every live instance's numbers and the total. */
  async read(): Promise<MessagingStatus> {
    const own = this.local();
    const beats: Heartbeat[] = [own];
    let complete = true;
    const { redis } = this.options;
    if (redis) {
      try {
        beats.push(...(await this.readOthers(redis)));
      } catch (error) {
        complete = false;
        this.options.log.warn({ err: error }, "reading other instances' status failed");
      }
    }
    beats.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
    const union = (pick: (beat: Heartbeat) => string[]) => new Set(beats.flatMap(pick)).size;
    return {
      generatedAt: new Date().toISOString(),
      activeWindowSeconds: ACTIVE_WINDOW_MS / 1000,
      source: redis ? "redis" : "process",
      complete,
      total: {
        instances: beats.length,
        sockets: beats.reduce((sum, beat) => sum + beat.sockets, 0),
        subscribers: beats.reduce((sum, beat) => sum + beat.subscribers, 0),
        onlineUsers: union((beat) => beat.onlineUserIds),
        typingUsers: union((beat) => beat.typingUserIds),
        activeConversations: union((beat) => beat.activeConversationIds),
      },
      instances: beats.map((beat) => instanceStatusSchema.parse(beat)),
    };
  }

  private async readOthers(redis: Redis): Promise<Heartbeat[]> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${this.options.prefix}status:*`, "COUNT", 200);
      cursor = next;
      keys.push(...batch.filter((key) => key !== this.key));
    } while (cursor !== "0");
    if (keys.length === 0) return [];
    const values = await redis.mget(...keys);
    const beats: Heartbeat[] = [];
    for (const value of values) {
      if (!value) continue;
      try {
        beats.push(JSON.parse(value) as Heartbeat);
      } catch {
        // A snapshot we cannot read is skipped; it expires by itself.
      }
    }
    return beats;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.options.redis?.del(this.key).catch(() => undefined);
    if (globalForStatus.__chatlineStatus === this) globalForStatus.__chatlineStatus = undefined;
  }
}

const globalForStatus = globalThis as unknown as { __chatlineStatus?: StatusReporter };

export function startStatusReporter(options: StatusReporterOptions): StatusReporter {
  const reporter = new StatusReporter(options);
  globalForStatus.__chatlineStatus = reporter;
  return reporter;
}

export function getStatusReporter(): StatusReporter {
  const reporter = globalForStatus.__chatlineStatus;
  if (!reporter) throw new Error("The status reporter is not started: startAppServer starts it.");
  return reporter;
}
