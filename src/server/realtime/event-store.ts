import type { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";

// The durable half of real-time: events are written in the same transaction as
// the change they describe, with ids from event_counter (gap-free, committed in
// id order), and read back to replay what a client missed or to fill a gap the
// live path left.

export interface NewEvent {
  type: string;
  conversationId?: string | null;
  userId?: string | null;
  messageId?: string | null;
  payload: Record<string, unknown>;
}

export interface StoredEvent {
  /** Decimal string of the bigint id: what clients send back as lastEventId. */
  id: string;
  type: string;
  conversationId: string | null;
  userId: string | null;
  messageId: string | null;
  payload: Record<string, unknown>;
}

type Sql = Pick<Db, "$queryRaw" | "$executeRaw"> | Prisma.TransactionClient;

/** Appends events inside the caller's transaction; their ids are final once it commits. */
export async function appendEvents(tx: Sql, events: NewEvent[]): Promise<StoredEvent[]> {
  if (events.length === 0) return [];
  const [counter] = await tx.$queryRaw<{ last_id: bigint }[]>`
    UPDATE event_counter SET last_id = last_id + ${events.length} WHERE id = 1 RETURNING last_id`;
  if (!counter) throw new Error("event_counter has no row: the realtime_events migration inserts it");
  const firstId = counter.last_id - BigInt(events.length) + 1n;
  const stored = events.map((event, index) => ({
    id: (firstId + BigInt(index)).toString(),
    type: event.type,
    conversationId: event.conversationId ?? null,
    userId: event.userId ?? null,
    messageId: event.messageId ?? null,
    payload: event.payload,
  }));
  await tx.$executeRaw`
    INSERT INTO events (id, type, conversation_id, user_id, message_id, payload)
    SELECT * FROM unnest(
      ${stored.map((e) => e.id)}::bigint[],
      ${stored.map((e) => e.type)}::text[],
      ${stored.map((e) => e.conversationId)}::uuid[],
      ${stored.map((e) => e.userId)}::uuid[],
      ${stored.map((e) => e.messageId)}::uuid[],
      ${stored.map((e) => JSON.stringify(e.payload))}::jsonb[]
    )`;
  return stored;
}

interface EventRow {
  id: bigint;
  type: string;
  conversation_id: string | null;
  user_id: string | null;
  message_id: string | null;
  payload: Record<string, unknown>;
}

function toStored(row: EventRow): StoredEvent {
  return {
    id: row.id.toString(),
    type: row.type,
    conversationId: row.conversation_id,
    userId: row.user_id,
    messageId: row.message_id,
    payload: row.payload,
  };
}

export async function lastEventId(db: Sql): Promise<bigint> {
  const [row] = await db.$queryRaw<{ last_id: bigint }[]>`SELECT last_id FROM event_counter WHERE id = 1`;
  return row?.last_id ?? 0n;
}

/** Every event with afterId < id <= upToId, in order (the dispatcher's gap repair). */
export async function readEventRange(db: Sql, afterId: bigint, upToId: bigint, limit = 1000): Promise<StoredEvent[]> {
  const rows = await db.$queryRaw<EventRow[]>`
    SELECT id, type, conversation_id, user_id, message_id, payload FROM events
    WHERE id > ${afterId} AND id <= ${upToId} ORDER BY id LIMIT ${limit}`;
  return rows.map(toStored);
}

/**
 * The events `userId` may see with afterId < id <= upToId, in order: personal
 * ones, and those of conversations while the user was a member (the removal
 * itself included).
 */
export async function readEventsForUser(
  db: Sql,
  userId: string,
  afterId: bigint,
  upToId: bigint,
  limit: number,
): Promise<StoredEvent[]> {
  const rows = await db.$queryRaw<EventRow[]>`
    (SELECT e.id, e.type, e.conversation_id, e.user_id, e.message_id, e.payload
       FROM conversation_memberships ms
       JOIN events e ON e.conversation_id = ms.conversation_id
      WHERE ms.user_id = ${userId}::uuid
        AND e.id > ${afterId} AND e.id <= ${upToId}
        AND e.id >= ms.joined_event_id AND (ms.left_event_id IS NULL OR e.id <= ms.left_event_id)
        AND e.user_id IS NULL)
    UNION ALL
    (SELECT e.id, e.type, e.conversation_id, e.user_id, e.message_id, e.payload
       FROM events e
      WHERE e.user_id = ${userId}::uuid AND e.id > ${afterId} AND e.id <= ${upToId})
    ORDER BY id LIMIT ${limit}`;
  return rows.map(toStored);
}

/** Names this installation's stream on a shared Redis. */
export async function installationId(db: Sql): Promise<string> {
  const [row] = await db.$queryRaw<{ installation_id: string }[]>`SELECT installation_id::text FROM event_counter WHERE id = 1`;
  if (!row) throw new Error("event_counter has no row: the realtime_events migration inserts it");
  return row.installation_id;
}

/** The oldest event still stored; a cursor older than it cannot be replayed. */
export async function oldestEventId(db: Sql): Promise<bigint | null> {
  const [row] = await db.$queryRaw<{ id: bigint | null }[]>`SELECT min(id) AS id FROM events`;
  return row?.id ?? null;
}
