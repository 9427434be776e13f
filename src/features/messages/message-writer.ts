import { queryPrepared, type Db } from "~/server/db/client";
import { logger } from "~/server/logger";
import { metrics } from "~/server/metrics";
import type { StoredEvent } from "~/server/realtime/event-store";
import type { ServiceDeps } from "~/server/service-deps";
import { textOrFilesSummary, type Attachment } from "~/features/attachments/contracts";
import type { Message } from "./contracts";
import { messageEvent, previewOf } from "./message-mapper";

// Group commit for sends. Every event writer queues on the one event_counter row
// (ids must commit in order), so a send written as its own multi-statement
// transaction caps an installation at a few dozen sends a second. Here the sends
// that arrive while a write is running are written together by the next one: one
// statement that takes the conversations' seqs, checks membership, stores the
// messages, moves the senders' positions and appends one event per message with
// one counter bump. Under light load a batch is one send written at once (no
// added wait); under heavy load batches grow with the write's duration.
// A send is answered only after the statement holding it has committed.

/** What a send needs once its limits have been checked. */
export interface SendRequest {
  senderId: string;
  conversationId: string;
  clientMessageId: string;
  content: string;
  /** Files uploaded by the sender to this conversation and not sent yet (attachmentsForSend); claimed under lock. */
  attachments?: readonly Attachment[];
}

/** Large enough to amortize a commit, small enough to keep one statement's locks short. */
const MAX_BATCH = 256;

interface Pending {
  request: SendRequest;
  /** The stored message, or null: nothing stored (a repeat of a stored send, or not a member). */
  resolve(message: Message | null): void;
  reject(error: unknown): void;
}

interface WrittenRow {
  ord: number;
  id: string;
  seq: number;
  created_at: Date;
  sender_name: string | null;
  sender_image: string | null;
  /** int8 arrives as a decimal string. */
  event_id: string;
  payload: Record<string, unknown>;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text as PostgreSQL stores it: a lone UTF-16 surrogate (half an emoji, say, cut
 * by a client) becomes U+FFFD, as encoding it to UTF-8 would, so the answer and the
 * event carry what the database holds (and the event's JSON is valid for jsonb).
 */
export function storableText(text: string): string {
  return text.replace(LONE_SURROGATE, "\uFFFD");
}

/** The message as every reader will see it (from a canonical request), before the database has given it an id, seq and time. */
function draftMessage(request: SendRequest): Message {
  return {
    id: "",
    conversationId: request.conversationId,
    seq: 0,
    senderId: request.senderId,
    senderName: null,
    senderImage: null,
    type: "TEXT",
    content: request.content,
    metadata: request.attachments?.length ? { attachments: [...request.attachments] } : null,
    clientMessageId: request.clientMessageId,
    createdAt: new Date(0),
    editedAt: null,
    deletedAt: null,
    reactions: [],
  };
}

const SEND_BATCH_SQL = `
    WITH input AS MATERIALIZED (
      SELECT * FROM unnest(
        $1::int[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[]
      ) AS i(ord, conversation_id, sender_id, client_message_id, content, preview, payload, metadata)
    ), wanted_files AS MATERIALIZED (
      SELECT i.ord, (f ->> 'id')::uuid AS id
        FROM input i, jsonb_array_elements(COALESCE(i.metadata -> 'attachments', '[]'::jsonb)) f
    ), locked_conversations AS MATERIALIZED (
      SELECT c.id FROM conversations c
       WHERE c.id IN (SELECT conversation_id FROM input)
       ORDER BY c.id FOR NO KEY UPDATE
    ), claimable_files AS MATERIALIZED (
      -- Locked after the conversations (as a conversation's deletion reaches its files), and
      -- re-read after any wait: a file another send claimed first is not claimable.
      SELECT t.id, t.conversation_id, t.uploader_id FROM attachments t
       WHERE t.id IN (SELECT id FROM wanted_files) AND t.conversation_id IN (SELECT id FROM locked_conversations)
         AND t.message_id IS NULL AND t.status = 'READY'
       ORDER BY t.id FOR UPDATE
    ), members AS MATERIALIZED (
      SELECT p.conversation_id, p.user_id
        FROM conversation_participants p
        JOIN locked_conversations lc ON lc.id = p.conversation_id
       WHERE (p.conversation_id, p.user_id) IN (SELECT conversation_id, sender_id FROM input)
         AND p.left_at IS NULL
       ORDER BY p.conversation_id, p.user_id FOR UPDATE OF p
    ), accepted AS MATERIALIZED (
      SELECT i.*,
             row_number() OVER (PARTITION BY i.conversation_id ORDER BY i.ord) AS n,
             count(*) OVER (PARTITION BY i.conversation_id) AS total
        FROM input i
        JOIN members m ON m.conversation_id = i.conversation_id AND m.user_id = i.sender_id
       WHERE NOT EXISTS (SELECT 1 FROM messages x WHERE x.sender_id = i.sender_id AND x.client_message_id = i.client_message_id)
         -- Every file it sends is the sender's, uploaded to this conversation and not sent yet.
         AND NOT EXISTS (
           SELECT 1 FROM wanted_files w
            WHERE w.ord = i.ord
              AND NOT EXISTS (SELECT 1 FROM claimable_files t
                               WHERE t.id = w.id AND t.conversation_id = i.conversation_id AND t.uploader_id = i.sender_id))
    ), bumped AS (
      UPDATE conversations c
         SET last_seq = c.last_seq + a.total, last_message_at = now(), last_message_preview = a.preview,
             last_message_sender_id = a.sender_id, updated_at = now()
        FROM accepted a
       WHERE c.id = a.conversation_id AND a.n = a.total
      RETURNING c.id, c.last_seq
    ), inserted AS (
      INSERT INTO messages (conversation_id, seq, sender_id, client_message_id, content, metadata)
      SELECT a.conversation_id, (b.last_seq - a.total + a.n)::int, a.sender_id, a.client_message_id, a.content, a.metadata
        FROM accepted a JOIN bumped b ON b.id = a.conversation_id
      RETURNING id, conversation_id, seq, sender_id, client_message_id, created_at
    ), claimed_files AS (
      UPDATE attachments t SET message_id = ins.id
        FROM inserted ins
        JOIN accepted a ON a.sender_id = ins.sender_id AND a.client_message_id = ins.client_message_id
        JOIN wanted_files w ON w.ord = a.ord
       WHERE t.id = w.id
    ), own_positions AS (
      -- Your own message is read and delivered as far as you are concerned.
      UPDATE conversation_participants p
         SET last_read_seq = s.seq, last_read_at = s.created_at, last_delivered_seq = s.seq, last_delivered_at = s.created_at
        FROM (SELECT DISTINCT ON (conversation_id, sender_id) conversation_id, sender_id, seq, created_at
                FROM inserted ORDER BY conversation_id, sender_id, seq DESC) s
       WHERE p.conversation_id = s.conversation_id AND p.user_id = s.sender_id
    ), numbered AS MATERIALIZED (
      SELECT ins.id, ins.conversation_id, ins.seq, ins.created_at, a.ord, a.payload,
             u.name AS sender_name, u.image AS sender_image,
             row_number() OVER (ORDER BY a.ord) AS k, count(*) OVER () AS total
        FROM inserted ins
        JOIN accepted a ON a.sender_id = ins.sender_id AND a.client_message_id = ins.client_message_id
        JOIN users u ON u.id = ins.sender_id
    ), counter AS (
      -- Last, and only when something was stored: the counter row stays locked until the commit.
      UPDATE event_counter SET last_id = last_id + (SELECT count(*) FROM numbered)
       WHERE id = 1 AND EXISTS (SELECT 1 FROM numbered)
      RETURNING last_id
    ), stored_events AS (
      INSERT INTO events (id, type, conversation_id, user_id, message_id, payload)
      SELECT counter.last_id - nb.total + nb.k, 'message.created', nb.conversation_id, NULL, nb.id,
             jsonb_set(nb.payload, '{message}', (nb.payload -> 'message') || jsonb_build_object(
               'id', nb.id, 'seq', nb.seq, 'senderName', nb.sender_name, 'senderImage', nb.sender_image,
               'createdAt', to_char(nb.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
        FROM numbered nb CROSS JOIN counter
      RETURNING id, message_id, payload
    )
    SELECT nb.ord, nb.id, nb.seq, nb.created_at, nb.sender_name, nb.sender_image, e.id AS event_id, e.payload
      FROM numbered nb JOIN stored_events e ON e.message_id = nb.id
     ORDER BY nb.ord`;

/**
 * Writes `requests` in one statement. Conversations and the senders' participant
 * rows are locked in key order (two instances' batches cannot deadlock), the
 * conversations FOR NO KEY UPDATE as an UPDATE would (inserts whose foreign key
 * points at them, such as the delivery tracker's receipts, are not blocked), and the
 * membership test is on the locked row, so a removal that commits first is seen.
 * Requests that stored nothing are absent from the result.
 */
async function writeBatch(prisma: Db, requests: SendRequest[]): Promise<WrittenRow[]> {
  return queryPrepared<WrittenRow>(prisma, "chatline.send-batch-v2", SEND_BATCH_SQL, [
    requests.map((_, index) => index),
    requests.map((r) => r.conversationId),
    requests.map((r) => r.senderId),
    requests.map((r) => r.clientMessageId),
    requests.map((r) => r.content),
    requests.map((r) => previewOf(textOrFilesSummary(r.content, r.attachments ?? []))),
    requests.map((request) => JSON.stringify(messageEvent("message.created", draftMessage(request)).payload)),
    requests.map((request) => (request.attachments?.length ? JSON.stringify({ attachments: request.attachments }) : null)),
  ]);
}

export class MessageWriter {
  private queue: Pending[] = [];
  private running = false;

  constructor(private readonly deps: ServiceDeps) {}

  /** Resolves once the send is committed (null: it stored nothing) and its event handed to the bus. */
  write(request: SendRequest): Promise<Message | null> {
    // As the database will hold it: ids as it spells them (a client may send a UUID in
    // capitals; events are routed and timelines matched by this spelling), and text
    // storable as it stands, so the answer and the event say what is stored.
    const canonical: SendRequest = {
      senderId: request.senderId.toLowerCase(),
      conversationId: request.conversationId.toLowerCase(),
      clientMessageId: request.clientMessageId,
      content: storableText(request.content),
      attachments: request.attachments,
    };
    return new Promise<Message | null>((resolve, reject) => {
      this.queue.push({ request: canonical, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Sends that arrive in the same turn of the event loop share the first write.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        try {
          await this.writeAndSettle(batch, true);
        } catch (error) {
          // Only a fault after the write (publishing) lands here; its sends must not hang.
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * The next batch, with no (sender, client id) and no file twice: a repeat waits
   * for the next write, which sees the first (one statement cannot see its own claims).
   */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const keys = new Set<string>();
    for (const pending of this.queue) {
      const key = `${pending.request.senderId}\u0000${pending.request.clientMessageId}`;
      const files = (pending.request.attachments ?? []).map((file) => `file\u0000${file.id}`);
      if (batch.length < MAX_BATCH && !keys.has(key) && !files.some((file) => keys.has(file))) {
        keys.add(key);
        for (const file of files) keys.add(file);
        batch.push(pending);
      } else {
        rest.push(pending);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async writeAndSettle(batch: Pending[], mayRetryAlone: boolean): Promise<void> {
    let rows: WrittenRow[];
    metrics().messageWriteBatch.observe(batch.length);
    try {
      rows = await writeBatch(this.deps.prisma, batch.map((pending) => pending.request));
    } catch (error) {
      // One bad send (a retry racing its twin on another instance, a deadlock with
      // another writer) must not fail the others: write each on its own.
      if (mayRetryAlone && batch.length > 1) {
        logger.warn({ err: error, sends: batch.length }, "writing a batch of sends failed; writing each on its own");
        for (const pending of batch) await this.writeAndSettle([pending], false);
        return;
      }
      for (const pending of batch) pending.reject(error);
      return;
    }
    const events: StoredEvent[] = rows.map((row) => ({
      id: row.event_id,
      type: "message.created",
      conversationId: batch[row.ord]!.request.conversationId,
      userId: null,
      messageId: row.id,
      payload: row.payload,
    }));
    await this.deps.realtime.publish(events);
    const written = new Map(rows.map((row) => [row.ord, row]));
    batch.forEach((pending, ord) => {
      const row = written.get(ord);
      pending.resolve(
        row
          ? {
              ...draftMessage(pending.request),
              id: row.id,
              seq: row.seq,
              createdAt: row.created_at,
              senderName: row.sender_name,
              senderImage: row.sender_image,
            }
          : null,
      );
    });
  }
}

const writers = new WeakMap<Db, WeakMap<object, MessageWriter>>();

/** The writer of this database and event sink: one per process, so its batches are as large as the load. */
export function messageWriter(deps: ServiceDeps): MessageWriter {
  let byRealtime = writers.get(deps.prisma);
  if (!byRealtime) writers.set(deps.prisma, (byRealtime = new WeakMap()));
  let writer = byRealtime.get(deps.realtime);
  if (!writer) byRealtime.set(deps.realtime, (writer = new MessageWriter({ prisma: deps.prisma, realtime: deps.realtime })));
  return writer;
}
