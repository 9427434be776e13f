import type { Db } from "~/server/db/client";

const SEARCH_LIMIT = 20;

/** People the caller can start a conversation with: active accounts other than the caller, by name or email. */
export async function searchUsers(prisma: Db, userId: string, query: string) {
  return prisma.user.findMany({
    where: {
      id: { not: userId },
      disabledAt: null,
      OR: [{ name: { contains: query, mode: "insensitive" } }, { email: { contains: query, mode: "insensitive" } }],
    },
    select: { id: true, name: true, email: true, image: true },
    orderBy: { name: "asc" },
    take: SEARCH_LIMIT,
  });
}
