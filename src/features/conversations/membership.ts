import type { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";
import { DomainError } from "~/server/errors";

type Reader = Db | Prisma.TransactionClient;

/**
 * The caller's membership, or NOT_FOUND: a non-member learns nothing, not even
 * that the conversation exists.
 */
export async function requireMembership(prisma: Reader, conversationId: string, userId: string) {
  const participant = await prisma.conversationParticipant.findUnique({
    where: { conversationId_userId: { conversationId, userId } },
    select: {
      role: true,
      leftAt: true,
      lastReadSeq: true,
      lastDeliveredSeq: true,
      muted: true,
      conversation: { select: { type: true, createdById: true, lastSeq: true, name: true } },
    },
  });
  if (!participant || participant.leftAt) throw new DomainError("NOT_FOUND", "That conversation does not exist.");
  return participant;
}
