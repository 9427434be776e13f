import type { Redis } from "ioredis";
import { z } from "zod";
import type { EventHub } from "~/features/events/event-hub";
import { instanceId } from "~/server/instance";
import type { Logger } from "~/server/logger";
import { ACTIVE_WINDOW_MS, instanceActivity } from "./activity";

// The messaging status of every instance. Each instance writes a small snapshot
// of itself every few seconds into one Redis hash per installation
// (`chatline:<installation>:status`, field = instance id, value = the snapshot with
// its `reportedAt`) and removes its field on shutdown. A reader takes the whole
// hash (HGETALL: no keyspace scan of a shared Redis), ignores and removes entries
// older than three missed beats (an instance killed with SIGKILL never cleans up),
// and sums what is left, with its own numbers taken live. Users and conversations
// are counted once in the total even when several instances see them (the
// snapshots carry their ids, the response only counts). Without Redis: this
// process only.

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

/** One instance's entry in the registry hash. */
const heartbeatSchema = instanceStatusSchema.extend({
  onlineUserIds: z.array(z.string()),
  typingUserIds: z.array(z.string()),
  activeConversationIds: z.array(z.string()),
});
type Heartbeat = z.infer<typeof heartbeatSchema>;

export const STATUS_HEARTBEAT_MS = 5_000;
/** An entry older than this many beats belongs to an instance that is gone. */
export const STATUS_MISSED_BEATS = 3;

/** The registry of one installation: a hash, one field per instance. */
export function statusRegistryKey(prefix: string): string {
  return `${prefix}status`;
}

// Removes a field only if it still holds the value the reader judged stale, so an
// instance that beats again between the read and the removal keeps its entry.
const DELETE_IF_UNCHANGED = `if redis.call("HGET", KEYS[1], ARGV[1]) == ARGV[2] then return redis.call("HDEL", KEYS[1], ARGV[1]) end return 0`;

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
  /** The beat under way, which close() lets land before removing the entry. */
  private beating: Promise<void> | undefined;

  constructor(private readonly options: StatusReporterOptions) {
    this.intervalMs = options.intervalMs ?? STATUS_HEARTBEAT_MS;
    if (options.redis) {
      this.beatNow();
      this.timer = setInterval(() => this.beatNow(), this.intervalMs);
      this.timer.unref();
    }
  }

  private get key() {
    return statusRegistryKey(this.options.prefix);
  }

  /** How old an entry may be before the reader treats its instance as gone. */
  private get staleAfterMs() {
    return this.intervalMs * STATUS_MISSED_BEATS;
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

  private beatNow() {
    if (this.beating) return;
    this.beating = this.beat().finally(() => {
      this.beating = undefined;
    });
  }

  private async beat() {
    if (this.closed || !this.options.redis) return;
    try {
      // The hash itself expires once no instance beats any more (all of them gone).
      const results = await this.options.redis
        .multi()
        .hset(this.key, instanceId, JSON.stringify(this.local()))
        .pexpire(this.key, this.staleAfterMs)
        .exec();
      const failed = results?.find(([error]) => error)?.[0];
      if (failed) throw failed;
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
    const entries = await redis.hgetall(this.key);
    const oldest = Date.now() - this.staleAfterMs;
    const beats: Heartbeat[] = [];
    const stale: [field: string, value: string][] = [];
    for (const [field, value] of Object.entries(entries)) {
      if (field === instanceId) continue;
      const beat = parseHeartbeat(value);
      // Unreadable, or missed three beats: its instance is gone (killed, or an older version).
      if (!beat || beat.instanceId !== field || !(Date.parse(beat.reportedAt) >= oldest)) stale.push([field, value]);
      else beats.push(beat);
    }
    if (stale.length > 0) {
      await Promise.all(stale.map(([field, value]) => redis.eval(DELETE_IF_UNCHANGED, 1, this.key, field, value))).catch(
        (error: unknown) => this.options.log.warn({ err: error }, "removing stale status entries failed"),
      );
    }
    return beats;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.beating;
    await this.options.redis?.hdel(this.key, instanceId).catch(() => undefined);
    if (globalForStatus.__chatlineStatus === this) globalForStatus.__chatlineStatus = undefined;
  }
}

function parseHeartbeat(value: string): Heartbeat | undefined {
  try {
    const parsed = heartbeatSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
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
