import type { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";

export interface AuditEntry {
  actorId?: string | null;
  /** "auth.sign_in_failed", "auth.signed_up", "conversation.created", ... */
  action: string;
  targetType?: string;
  targetId?: string;
  conversationId?: string;
  metadata?: Prisma.InputJsonValue;
  ip?: string | null;
  userAgent?: string | null;
}

/** `prisma` may be a transaction, so the entry commits with the change it records. */
export async function recordAudit(prisma: Pick<Db, "auditLog">, entry: AuditEntry): Promise<void> {
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
