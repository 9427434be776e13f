import type { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";
import { AUDIT_ACTIONS, type AuditAction, type AuditEntryView, type AuditListOutput } from "./contracts";

export interface AuditEntry {
  actorId?: string | null;
  /** One of AUDIT_ACTIONS: "auth.sign_in_failed", "auth.signed_up", "conversation.created", ... */
  action: AuditAction;
  targetType?: string;
  targetId?: string;
  conversationId?: string;
  metadata?: Prisma.InputJsonValue;
  ip?: string | null;
  userAgent?: string | null;
}

const KNOWN_ACTIONS: ReadonlySet<string> = new Set(AUDIT_ACTIONS);

/** `prisma` may be a transaction, so the entry commits with the change it records. */
export async function recordAudit(prisma: Pick<Db, "auditLog">, entry: AuditEntry): Promise<void> {
  // The type already says so; this catches a cast (and fails the change it would record).
  if (!KNOWN_ACTIONS.has(entry.action)) throw new Error(`Unknown audit action "${entry.action}": add it to AUDIT_ACTIONS.`);
  await prisma.auditLog.create({
    data: {
      actorId: entry.actorId ?? null,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      conversationId: entry.conversationId,
      metadata: entry.metadata,
      ip: entry.ip ?? null,
      userAgent: entry.userAgent?.slice(0, 512) ?? null,
    },
  });
}

export interface AuditListFilters {
  action?: string;
  /** Entries whose conversation_id is this conversation (indexed with created_at). */
  conversationId?: string;
  /** Part of the actor's name or email, any case. */
  actor?: string;
  from?: Date;
  to?: Date;
  cursor?: string | null;
  limit: number;
}

/**
 * audit.list: entries newest first, filtered, a page at a time. The cursor is the
 * last id of the previous page; ties in time are broken by id, so paging neither
 * skips nor repeats entries written in one transaction.
 */
export async function listAudit(prisma: Pick<Db, "auditLog">, filters: AuditListFilters): Promise<AuditListOutput> {
  const where: Prisma.AuditLogWhereInput = {
    ...(filters.action ? { action: filters.action } : {}),
    ...(filters.conversationId ? { conversationId: filters.conversationId } : {}),
    ...(filters.actor
      ? {
          actor: {
            OR: [
              { name: { contains: filters.actor, mode: "insensitive" } },
              { email: { contains: filters.actor, mode: "insensitive" } },
            ],
          },
        }
      : {}),
    ...(filters.from || filters.to ? { createdAt: { gte: filters.from, lt: filters.to } } : {}),
  };
  const rows = await prisma.auditLog.findMany({
    where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    ...(filters.cursor ? { cursor: { id: BigInt(filters.cursor) }, skip: 1 } : {}),
    take: filters.limit + 1,
    include: { actor: { select: { id: true, name: true, email: true } } },
  });
  const page = rows.slice(0, filters.limit);
  return {
    items: page.map((row) => ({
      id: row.id.toString(),
      at: row.createdAt,
      action: row.action,
      actor: row.actor,
      targetType: row.targetType,
      targetId: row.targetId,
      conversationId: row.conversationId,
      metadata: (row.metadata ?? null) as AuditEntryView["metadata"],
      ip: row.ip,
      userAgent: row.userAgent,
    })),
    nextCursor: rows.length > filters.limit ? page[page.length - 1]!.id.toString() : null,
  };
}

/** audit.actions: every action the log records (a constant: no query over the log). */
export function listAuditActions(): AuditAction[] {
  return [...AUDIT_ACTIONS];
}
