import { usersHoldingPermission } from "~/features/auth/auth.service";
import type { WireMessage } from "~/features/events/contracts";
import { PERMISSIONS } from "~/features/permissions/catalog";
import type { PresenceSnapshot } from "~/features/presence/presence-store";
import type { Prisma } from "~/generated/prisma/client";
import type { Logger } from "~/server/logger";
import type { ServiceDeps } from "~/server/service-deps";
import { withEvents, type AppendEvents } from "~/server/realtime/transaction";
import { enqueueJobs, type NewJob } from "./jobs";
import { notificationColumns, upsertedEvent, type NotificationRow } from "./notification-rows";
import { attachmentsOf, textOrFilesSummary } from "~/features/attachments/contracts";
import { previewBody } from "./preview-text";
import { COLLAPSE_WINDOW_MS, deliveryFor, doNotDisturbOf, joinsLatest, startsPushBurst, type Recipient } from "./rules";

// Turns new messages into notifications, off the send path: the message writer
// only stores messages and their `message.created` events; this reads those
// events after they committed, from a cursor kept in `notification_cursor`, and
// in one transaction writes the notifications, their events, the digest's
// bookkeeping and the push jobs, and moves the cursor. So each message notifies
// once, even with several instances (the cursor row is taken with SKIP LOCKED:
// one instance works while the others skip), and a crash repeats nothing.

/** Messages one run reads; a longer backlog takes several runs. */
const BATCH = 500;
/**
 * Runs start at most this often: the first message after a quiet spell is read at
 * once, a busy stream in batches. Each run is a transaction and a read of every
 * member of the batch's conversations; at one every 50 ms the direct benchmark's
 * p99 doubled, and at one every 250 ms the group benchmark's p50 went from 9 ms to
 * up to 90 (bench/RESULTS.md). A bell a second late is not noticed.
 */
const MIN_INTERVAL_MS = 1_000;
/** Catches events this instance did not hear of (the bus lost them; another instance skipped). */
const SWEEP_MS = 5_000;

export interface MessageNotifierDeps extends ServiceDeps {
  log: Logger;
  presence: { snapshotOf(userIds: string[]): Promise<Map<string, PresenceSnapshot>> };
  /** Whether email digests and pushes can go out (SMTP_URL; VAPID keys): without them nothing is kept for them. */
  channels: () => { email: boolean; push: boolean };
  /** New push jobs were committed. */
  onJobs?: () => void;
  /** Live only, to the owner's open streams: a notification that grew. */
  publishGrown?: (rows: NotificationRow[]) => Promise<void>;
}

interface MessageEventRow {
  id: bigint;
  message: WireMessage;
}

interface RecipientRow {
  conversation_id: string;
  user_id: string;
  conversation_type: "DIRECT" | "GROUP";
  conversation_name: string | null;
  last_read_seq: number;
  last_read_at: Date | null;
  joined_at: Date;
  muted: boolean;
  in_app: boolean;
  email: boolean;
  push: boolean;
  /** The saved do-not-disturb schedule; null without one. */
  dndEnabled: boolean | null;
  dndStart: string | null;
  dndEnd: string | null;
  timeZone: string | null;
  has_push: boolean;
}

export class MessageNotifier {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private lastStart = 0;
  private sweeper: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: MessageNotifierDeps) {}

  start(): void {
    // A database built without the migration's row (from the schema alone) starts at the present too.
    void this.deps.prisma.$executeRaw`
      INSERT INTO notification_cursor (id, last_event_id) SELECT 1, last_id FROM event_counter WHERE id = 1 ON CONFLICT (id) DO NOTHING`.catch(
      (error: unknown) => this.deps.log.warn({ err: error }, "creating the notification cursor failed"),
    );
    this.sweeper = setInterval(() => this.poke(), SWEEP_MS);
    this.sweeper.unref();
    this.poke();
  }

  /** Something may be new: run now, or when MIN_INTERVAL_MS has passed since the last run began. */
  poke(): void {
    if (this.stopped || this.timer) return;
    const wait = Math.max(0, this.lastStart + MIN_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.drain();
    }, wait);
    this.timer.unref();
  }

  /** Runs until nothing is left, or another instance holds the cursor. Resolves when done (tests await it). */
  async drain(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          while (!this.stopped && (await this.runOnce()) === "more");
        } while (this.again && !this.stopped);
      } catch (error) {
        this.deps.log.warn({ err: error }, "notifying of new messages failed; the next run retries");
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.sweeper) clearInterval(this.sweeper);
    await this.running;
  }

  /** One batch: "more" when the batch was full, "done" when caught up, "busy" when another instance works. */
  async runOnce(): Promise<"more" | "done" | "busy"> {
    this.lastStart = Date.now();
    let pushJobs = 0;
    let grown: NotificationRow[] = [];
    const outcome = await withEvents(this.deps, async (tx, append) => {
      const [cursor] = await tx.$queryRaw<{ last_event_id: bigint }[]>`
        SELECT last_event_id FROM notification_cursor WHERE id = 1 FOR UPDATE SKIP LOCKED`;
      if (!cursor) return "busy" as const;
      // Every event up to the counter's committed value is committed (ids are taken under its lock).
      const [counter] = await tx.$queryRaw<{ last_id: bigint }[]>`SELECT last_id FROM event_counter WHERE id = 1`;
      const upTo = counter?.last_id ?? cursor.last_event_id;
      if (upTo <= cursor.last_event_id) return "done" as const;
      const events = await tx.$queryRaw<MessageEventRow[]>`
        SELECT id, payload->'message' AS message FROM events
         WHERE id > ${cursor.last_event_id} AND id <= ${upTo} AND type = 'message.created'
         ORDER BY id LIMIT ${BATCH}`;
      const full = events.length === BATCH;
      const reached = full ? events[events.length - 1]!.id : upTo;
      const messages = events
        .map((event) => event.message)
        // A message deleted before this run has its content blanked in the event too.
        .filter((message) => message.type === "TEXT" && !message.deletedAt && message.content !== null && message.senderId);
      if (messages.length > 0) ({ pushJobs, grown } = await this.notify(tx, append, messages));
      await tx.$executeRaw`UPDATE notification_cursor SET last_event_id = ${reached} WHERE id = 1`;
      return full ? ("more" as const) : ("done" as const);
    });
    if (pushJobs > 0) this.deps.onJobs?.();
    if (grown.length > 0) await this.deps.publishGrown?.(grown).catch((error: unknown) => this.deps.log.warn({ err: error }, "publishing grown notifications failed"));
    return outcome;
  }

  private async notify(
    tx: Prisma.TransactionClient,
    append: AppendEvents,
    messages: WireMessage[],
  ): Promise<{ pushJobs: number; grown: NotificationRow[] }> {
    const now = new Date();
    const channels = this.deps.channels();
    const byConversation = new Map<string, WireMessage[]>();
    for (const message of messages) byConversation.set(message.conversationId, [...(byConversation.get(message.conversationId) ?? []), message]);
    const recipients = await tx.$queryRaw<RecipientRow[]>`
      SELECT p.conversation_id, p.user_id, c.type::text AS conversation_type, c.name AS conversation_name,
             p.last_read_seq, p.last_read_at, p.joined_at, p.muted,
             COALESCE(np.in_app, true) AS in_app, COALESCE(np.email, true) AS email, COALESCE(np.push, true) AS push,
             ns.dnd_enabled AS "dndEnabled", ns.dnd_start AS "dndStart", ns.dnd_end AS "dndEnd", ns.time_zone AS "timeZone",
             EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = p.user_id) AS has_push
        FROM conversation_participants p
        JOIN conversations c ON c.id = p.conversation_id
        LEFT JOIN notification_preferences np ON np.user_id = p.user_id AND np.category = 'SOCIAL'
        LEFT JOIN notification_settings ns ON ns.user_id = p.user_id
       WHERE p.conversation_id = ANY(${[...byConversation.keys()]}::uuid[]) AND p.left_at IS NULL`;
    // Someone disabled, or who lost messaging:access, hears no more of its messages.
    const allowed = await usersHoldingPermission(tx, recipients.map((row) => row.user_id), PERMISSIONS.messagingAccess);
    const userIds = [...allowed];
    if (userIds.length === 0) return { pushJobs: 0, grown: [] };
    const presence = await this.deps.presence.snapshotOf(userIds);

    // What each member has not seen of this batch, by conversation.
    const plans: { row: RecipientRow; unseen: WireMessage[]; inApp: boolean; push: boolean; digest: boolean }[] = [];
    for (const row of recipients) {
      if (!allowed.has(row.user_id)) continue;
      const unseen = (byConversation.get(row.conversation_id) ?? []).filter(
        (message) => message.senderId !== row.user_id && message.seq > row.last_read_seq && new Date(message.createdAt) >= row.joined_at,
      );
      if (unseen.length === 0) continue;
      const snapshot = presence.get(row.user_id);
      const recipient: Recipient = {
        viewing: snapshot?.viewing.has(row.conversation_id) ?? false,
        muted: row.muted,
        preference: { inApp: row.in_app, email: row.email, push: row.push },
        doNotDisturb: doNotDisturbOf(row),
        away: (snapshot?.status ?? "offline") !== "online",
      };
      const delivery = deliveryFor(recipient, now);
      plans.push({
        row,
        unseen,
        inApp: delivery.inApp,
        push: delivery.push && channels.push && row.has_push,
        digest: delivery.digest && channels.email,
      });
    }

    // A message deleted while this run works must not be quoted: the delete takes
    // its row (UPDATE), so reading the quoted messages FOR SHARE either waits for a
    // delete under way (and drops the message) or makes the delete wait for this
    // commit (and its forgetDeletedMessage then finds the notifications).
    const quoted = [...new Set(plans.filter((plan) => plan.inApp || plan.push).map((plan) => plan.unseen.at(-1)!.id))];
    if (quoted.length > 0) {
      // The same goes for an edit, and the preview quotes the text as it is now.
      const present = await tx.$queryRaw<{ id: string; content: string | null }[]>`
        SELECT id, content FROM messages WHERE id = ANY(${quoted}::uuid[]) AND deleted_at IS NULL FOR SHARE`;
      const contentOf = new Map(present.map((row) => [row.id, row.content]));
      for (const plan of plans) {
        const newest = plan.unseen.at(-1)!;
        if (contentOf.has(newest.id)) newest.content = contentOf.get(newest.id) ?? null;
        else plan.inApp = plan.push = false;
      }
    }

    // In the bell: a burst joins the conversation's latest unread notification, or starts one.
    const inApp = plans.filter((plan) => plan.inApp);
    const latest = await latestByConversation(tx, inApp.map((plan) => plan.row));
    type Write = { plan: (typeof plans)[number]; title: string; body: string; messageId: string; seq: number };
    const grow: (Write & { id: string })[] = [];
    let create: Write[] = [];
    for (const plan of inApp) {
      const newest = plan.unseen.at(-1)!;
      const write = { plan, ...describe(plan.row, plan.unseen), messageId: newest.id, seq: newest.seq };
      const current = latest.get(`${plan.row.user_id}:${plan.row.conversation_id}`) ?? null;
      if (current && joinsLatest({ readAt: current.read_at, updatedAt: current.updated_at }, now)) grow.push({ ...write, id: current.id });
      else create.push(write);
    }
    // Both statements check again what may have changed since the reads above: a
    // notification read meanwhile is not grown (a new one starts), and a member who
    // read up to the message meanwhile gets nothing.
    const stillUnread = (alias: string, seq: string) =>
      `EXISTS (SELECT 1 FROM conversation_participants p
                WHERE p.conversation_id = ${alias}.conversation_id AND p.user_id = ${alias}.user_id
                  AND p.left_at IS NULL AND p.last_read_seq < ${seq})`;
    // A new notification is a stored event (replayed to a client that was away); a
    // growth is live only: in a busy group it would otherwise store an event per
    // member per run.
    let grown: NotificationRow[] = [];
    const created: NotificationRow[] = [];
    if (grow.length > 0) {
      grown = await tx.$queryRawUnsafe<NotificationRow[]>(
        `UPDATE notifications n SET count = n.count + g.add, title = g.title, body = g.body, message_id = g.message_id, updated_at = $5
           FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $6::uuid[], $7::int[]) AS g(id, add, title, body, message_id, seq)
          WHERE n.id = g.id AND n.read_at IS NULL AND ${stillUnread("n", "g.seq")}
      RETURNING ${notificationColumns("n")}`,
        grow.map((g) => g.id),
        grow.map((g) => g.plan.unseen.length),
        grow.map((g) => g.title),
        grow.map((g) => g.body),
        now,
        grow.map((g) => g.messageId),
        grow.map((g) => g.seq),
      );
      const grownIds = new Set(grown.map((row) => row.id));
      create = [...create, ...grow.filter((g) => !grownIds.has(g.id))];
    }
    if (create.length > 0) {
      created.push(
        ...(await tx.$queryRawUnsafe<NotificationRow[]>(
          `INSERT INTO notifications (user_id, category, title, body, link, conversation_id, message_id, collapse_key, count, created_at, updated_at)
           SELECT x.user_id, 'SOCIAL', x.t, x.b, '/messages/' || x.conversation_id, x.conversation_id, x.m, 'conversation:' || x.conversation_id, x.n, $6, $6
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[], $7::uuid[], $8::int[]) AS x(user_id, conversation_id, t, b, n, m, seq)
            WHERE ${stillUnread("x", "x.seq")}
        RETURNING ${notificationColumns()}`,
          create.map((c) => c.plan.row.user_id),
          create.map((c) => c.plan.row.conversation_id),
          create.map((c) => c.title),
          create.map((c) => c.body),
          create.map((c) => c.plan.unseen.length),
          now,
          create.map((c) => c.messageId),
          create.map((c) => c.seq),
        )),
      );
    }

    // The digest: note when the first message not yet emailed arrived.
    const digestUsers = [...new Set(plans.filter((plan) => plan.digest).map((plan) => plan.row.user_id))];
    if (digestUsers.length > 0) {
      await tx.$executeRaw`
        INSERT INTO email_digest_state (user_id, pending_since) SELECT unnest(${digestUsers}::uuid[]), ${now}
        ON CONFLICT (user_id) DO UPDATE SET pending_since = COALESCE(email_digest_state.pending_since, excluded.pending_since)`;
    }

    // Pushes: one per burst per conversation.
    const pushing = plans.filter((plan) => plan.push);
    const jobs: NewJob[] = [];
    if (pushing.length > 0) {
      const lastPushes = await tx.$queryRaw<{ user_id: string; conversation_id: string; at: Date }[]>`
        SELECT user_id, payload->>'conversationId' AS conversation_id, max(created_at) AS at
          FROM notification_jobs
         WHERE kind = 'PUSH' AND user_id = ANY(${pushing.map((plan) => plan.row.user_id)}::uuid[])
           AND created_at > ${new Date(now.getTime() - COLLAPSE_WINDOW_MS)}
         GROUP BY 1, 2`;
      const lastPushAt = new Map(lastPushes.map((row) => [`${row.user_id}:${row.conversation_id}`, row.at]));
      for (const plan of pushing) {
        const key = `${plan.row.user_id}:${plan.row.conversation_id}`;
        if (!startsPushBurst(lastPushAt.get(key) ?? null, plan.row.last_read_at, now)) continue;
        const text = describe(plan.row, plan.unseen);
        jobs.push({
          kind: "PUSH",
          userId: plan.row.user_id,
          payload: {
            conversationId: plan.row.conversation_id,
            title: text.title,
            body: text.body,
            link: `/messages/${plan.row.conversation_id}`,
            tag: `conversation:${plan.row.conversation_id}`,
            messageId: plan.unseen.at(-1)!.id,
          },
        });
      }
      await enqueueJobs(tx, jobs);
    }

    // Appended last: the event counter's lock is held from here to the commit.
    await append(created.map(upsertedEvent));
    return { pushJobs: jobs.length, grown };
  }
}

/** The latest notification of each (person, conversation), for collapsing. */
async function latestByConversation(tx: Prisma.TransactionClient, rows: RecipientRow[]) {
  if (rows.length === 0) return new Map<string, { id: string; read_at: Date | null; updated_at: Date }>();
  const latest = await tx.$queryRaw<{ id: string; user_id: string; conversation_id: string; read_at: Date | null; updated_at: Date }[]>`
    SELECT DISTINCT ON (n.user_id, n.collapse_key) n.id, n.user_id, n.conversation_id, n.read_at, n.updated_at
      FROM notifications n
      JOIN unnest(${rows.map((row) => row.user_id)}::uuid[], ${rows.map((row) => `conversation:${row.conversation_id}`)}::text[])
           AS k(user_id, collapse_key) ON n.user_id = k.user_id AND n.collapse_key = k.collapse_key
     ORDER BY n.user_id, n.collapse_key, n.updated_at DESC`;
  return new Map(latest.map((row) => [`${row.user_id}:${row.conversation_id}`, row]));
}

/** Title and preview from the member's side: the sender in a direct conversation, the group's name in a group. */
export function describe(row: Pick<RecipientRow, "conversation_type" | "conversation_name">, unseen: WireMessage[]) {
  const newest = unseen[unseen.length - 1]!;
  const sender = newest.senderName ?? "Someone";
  const body = previewBody(row.conversation_type, sender, textOrFilesSummary(newest.content ?? "", attachmentsOf(newest)));
  return { title: row.conversation_type === "DIRECT" ? sender : (row.conversation_name ?? "Group conversation"), body };
}
