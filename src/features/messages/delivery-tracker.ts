import type { Db } from "~/server/db/client";
import type { Logger } from "~/server/logger";
import type { ServiceDeps } from "~/server/service-deps";
import { withEvents } from "~/server/realtime/transaction";
import { receiptEvents } from "./receipts";

// DELIVERED receipts: when a message event goes out on a recipient's socket, its
// seq is noted here; every FLUSH_MS the highest seq per (conversation, member) is
// written as one position move, with one receipt event, not one row per message.

const FLUSH_MS = 250;

export class DeliveryTracker {
  private pending = new Map<string, { conversationId: string; userId: string; seq: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly deps: ServiceDeps & { prisma: Db },
    private readonly log: Logger,
  ) {}

  record(conversationId: string, userId: string, seq: number): void {
    const key = `${conversationId}:${userId}`;
    const current = this.pending.get(key);
    if (!current || current.seq < seq) this.pending.set(key, { conversationId, userId, seq });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_MS);
  }

  /**
   * A client that comes online has everything of its conversations delivered to
   * it (it loads what it shows from there), as a phone that reconnects does.
   */
  async deliverPending(userId: string): Promise<void> {
    const behind = await this.deps.prisma.$queryRaw<{ conversation_id: string; last_seq: number }[]>`
      SELECT p.conversation_id, c.last_seq FROM conversation_participants p
        JOIN conversations c ON c.id = p.conversation_id
       WHERE p.user_id = ${userId}::uuid AND p.left_at IS NULL AND p.last_delivered_seq < c.last_seq`;
    for (const row of behind) this.record(row.conversation_id, userId, row.last_seq);
  }

  async flush(): Promise<void> {
    await this.flushing;
    if (this.pending.size === 0) return;
    // Rows are locked in key order, so two instances flushing overlapping batches cannot deadlock.
    const batch = [...this.pending.values()].sort((a, b) =>
      a.conversationId === b.conversationId ? (a.userId < b.userId ? -1 : 1) : a.conversationId < b.conversationId ? -1 : 1,
    );
    this.pending = new Map();
    this.flushing = this.write(batch).catch((error: unknown) => {
      this.log.warn({ err: error }, "recording deliveries failed; retrying with the next flush");
      if (!this.closed) for (const item of batch) this.record(item.conversationId, item.userId, item.seq);
    });
    await this.flushing;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(batch: { conversationId: string; userId: string; seq: number }[]) {
    await withEvents(this.deps, async (tx, append) => {
      const moved = await tx.$queryRaw<
        { conversation_id: string; user_id: string; previous_seq: number; last_delivered_seq: number; last_delivered_at: Date }[]
      >`
        WITH wanted AS (
          SELECT * FROM unnest(${batch.map((b) => b.conversationId)}::uuid[], ${batch.map((b) => b.userId)}::uuid[],
                               ${batch.map((b) => b.seq)}::int[]) AS d(conversation_id, user_id, seq)
        ), previous AS (
          SELECT p.conversation_id, p.user_id, p.last_delivered_seq AS previous_seq, w.seq
            FROM conversation_participants p
            JOIN wanted w ON w.conversation_id = p.conversation_id AND w.user_id = p.user_id
           WHERE p.last_delivered_seq < w.seq
           ORDER BY p.conversation_id, p.user_id
             FOR UPDATE OF p
        )
        UPDATE conversation_participants p
           SET last_delivered_seq = previous.seq, last_delivered_at = now()
          FROM previous
         WHERE p.conversation_id = previous.conversation_id AND p.user_id = previous.user_id
         RETURNING p.conversation_id, p.user_id, previous.previous_seq, p.last_delivered_seq, p.last_delivered_at`;
      if (moved.length === 0) return;
      await tx.messageReceipt.createMany({
        data: moved.map((row) => ({
          conversationId: row.conversation_id,
          userId: row.user_id,
          kind: "DELIVERED" as const,
          upToSeq: row.last_delivered_seq,
          at: row.last_delivered_at,
        })),
      });
      await append(
        await receiptEvents(
          tx,
          moved.map((row) => ({
            conversationId: row.conversation_id,
            userId: row.user_id,
            status: "DELIVERED" as const,
            previousSeq: row.previous_seq,
            upToSeq: row.last_delivered_seq,
            at: row.last_delivered_at,
          })),
        ),
      );
    });
  }
}
