import { z } from "zod";
import { attachmentsOf, attachmentUrl } from "~/features/attachments/contracts";
import { recordAudit } from "~/features/audit/audit.service";
import { Prisma } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";

// A user's data as one JSON document ("chatline-export/1"): their account, every
// conversation they are or were in (with their membership and the participants),
// and the messages they could see there: those sent while they were a member
// (from the event that added them to the one that removed them, the same windows
// the event replay uses), which include every message of their own (a send checks
// membership under the conversation's lock, in the transaction that writes its
// event, so it always falls inside a window). Deleted messages are listed without
// content, as the app shows them; reactions with who reacted.
//
// Someone who is no longer a member gets the conversation as it stood when they
// left it (the end of their last window, by event id), not as it is now:
// - a message edited after that has the content and `editedAt` of the last
//   `message.created`/`message.updated` event of it within the window (events
//   carry the message as clients received it);
// - a deletion counts only if its `message.deleted` event is within the window;
// - reactions are those of the last `reaction.updated` event within the window
//   (the whole set as it stood, so also one taken back after they left), none if
//   there was none;
// - participants are those who were members at some point during one of their
//   windows, with `leftAt` only for a departure they could have seen (within it).
// A current member gets everything as it is now, as the app shows it to them.
//
// Memory stays bounded whatever the history: conversations are read 100 at a time
// from the user's memberships (keyset on conversation id), messages 500 at a time
// per conversation (keyset on (conversation_id, seq), within the seq range of each
// window), and every page is handed to `write` as soon as it is serialized; the
// caller (GET /api/export) waits for the socket to drain before the next page.

export const EXPORT_FORMAT = "chatline-export/1";
/** Messages read and written at a time. */
export const EXPORT_PAGE_SIZE = 500;
/** Conversations read at a time. */
const CONVERSATION_PAGE_SIZE = 100;
/** Smaller than any id gen_random_uuid() hands out: where the keyset on conversation ids starts. */
const NIL_UUID = "00000000-0000-0000-0000-000000000000";

/** A date in the file: an ISO string once written, a Date once parsed. */
const exportDate = z.union([z.date(), z.iso.datetime({ offset: true }).pipe(z.coerce.date())]);

const exportedMessage = z.object({
  id: z.string(),
  seq: z.number().int(),
  senderId: z.string().nullable(),
  senderName: z.string().nullable(),
  type: z.enum(["TEXT", "SYSTEM"]),
  content: z.string().nullable(),
  createdAt: exportDate,
  editedAt: exportDate.nullable(),
  deletedAt: exportDate.nullable(),
  reactions: z.array(z.object({ emoji: z.string(), userId: z.string() })),
  /** The files it carried, with where a member downloads them (the app's path; signed in, a member). */
  attachments: z
    .array(z.object({ id: z.string(), name: z.string(), contentType: z.string(), size: z.number().int(), url: z.string() }))
    .default([]),
});
export type ExportedMessage = z.input<typeof exportedMessage>;

/** What a download parses to (`userExportSchema.parse(JSON.parse(text))`). */
export const userExportSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  exportedAt: exportDate,
  user: z.object({ id: z.string(), email: z.string(), name: z.string(), createdAt: exportDate }),
  conversations: z.array(
    z.object({
      id: z.string(),
      type: z.enum(["DIRECT", "GROUP"]),
      name: z.string().nullable(),
      createdAt: exportDate,
      membership: z.object({
        role: z.enum(["OWNER", "MEMBER"]),
        joinedAt: exportDate,
        leftAt: exportDate.nullable(),
        muted: z.boolean(),
      }),
      participants: z.array(z.object({ id: z.string(), name: z.string(), leftAt: exportDate.nullable() })),
      messages: z.array(exportedMessage),
    }),
  ),
});
export type UserExport = z.output<typeof userExportSchema>;

export interface ExportSubject {
  id: string;
  email: string;
  name: string;
  createdAt: Date;
}

/** Hands a piece of the document on; resolves when the next one may come (backpressure). */
export type ExportWrite = (chunk: string) => Promise<void>;

export interface ExportOptions {
  /**
   * The messages others wrote in the person's conversations while they were a
   * member: true for a person's own download; false for an admin's export, which
   * must not become a way to read conversations an admin is not in (see "Permissions").
   */
  includeOthers: boolean;
  /** Aborted when the client goes away: no further query is made. */
  signal?: AbortSignal;
  pageSize?: number;
  now?: Date;
}

export async function findExportSubject(prisma: Db, userId: string): Promise<ExportSubject | null> {
  return prisma.user.findUnique({ where: { id: userId }, select: { id: true, email: true, name: true, createdAt: true } });
}

const json = (value: unknown) => JSON.stringify(value);

/** Writes `subject`'s export as one JSON document, page by page, through `write`. */
export async function writeUserExport(prisma: Db, subject: ExportSubject, write: ExportWrite, options: ExportOptions): Promise<void> {
  const { signal } = options;
  const pageSize = options.pageSize ?? EXPORT_PAGE_SIZE;
  const user = { id: subject.id, email: subject.email, name: subject.name, createdAt: subject.createdAt };
  await write(
    `{"format":${json(EXPORT_FORMAT)},"exportedAt":${json(options.now ?? new Date())},"user":${json(user)},"conversations":[`,
  );
  let firstConversation = true;
  let after = NIL_UUID;
  for (;;) {
    signal?.throwIfAborted();
    // Ordered by the uuid itself (not a text cast), along the (user_id, conversation_id) index.
    const page = await prisma.$queryRaw<{ conversation_id: string }[]>`
      SELECT DISTINCT conversation_id FROM conversation_memberships
       WHERE user_id = ${subject.id}::uuid AND conversation_id > ${after}::uuid
       ORDER BY conversation_id LIMIT ${CONVERSATION_PAGE_SIZE}`;
    if (page.length === 0) break;
    after = page[page.length - 1]!.conversation_id;
    const ids = page.map((row) => row.conversation_id);
    const [windows, participations] = await Promise.all([
      prisma.conversationMembership.findMany({
        where: { userId: subject.id, conversationId: { in: ids } },
        select: { conversationId: true, joinedEventId: true, leftEventId: true },
        orderBy: { joinedEventId: "asc" },
      }),
      prisma.conversationParticipant.findMany({
        where: { userId: subject.id, conversationId: { in: ids } },
        select: {
          role: true,
          joinedAt: true,
          leftAt: true,
          muted: true,
          conversation: { select: { id: true, type: true, name: true, createdAt: true, lastSeq: true } },
        },
      }),
    ]);
    const participationOf = new Map(participations.map((p) => [p.conversation.id, p]));
    for (const conversationId of ids) {
      const participation = participationOf.get(conversationId);
      const own = windows.filter((w) => w.conversationId === conversationId);
      if (!participation || own.length === 0) continue;
      await writeConversation(prisma, subject.id, participation, own, {
        write,
        first: firstConversation,
        includeOthers: options.includeOthers,
        pageSize,
        signal,
      });
      firstConversation = false;
    }
    if (page.length < CONVERSATION_PAGE_SIZE) break;
  }
  await write("]}");
}

interface Participation {
  role: "OWNER" | "MEMBER";
  joinedAt: Date;
  leftAt: Date | null;
  muted: boolean;
  conversation: { id: string; type: "DIRECT" | "GROUP"; name: string | null; createdAt: Date; lastSeq: number };
}

interface MembershipWindow {
  joinedEventId: bigint;
  leftEventId: bigint | null;
}

async function writeConversation(
  prisma: Db,
  userId: string,
  participation: Participation,
  windows: MembershipWindow[],
  options: { write: ExportWrite; first: boolean; includeOthers: boolean; pageSize: number; signal: AbortSignal | undefined },
) {
  const { conversation } = participation;
  const { write, signal } = options;
  // The end of the last window; null while a window is open (a current member: everything as it is now).
  const cutoff = windows.some((w) => w.leftEventId === null)
    ? null
    : windows.reduce<bigint | null>((latest, w) => (latest === null || w.leftEventId! > latest ? w.leftEventId : latest), null);
  signal?.throwIfAborted();
  const participants = await participantsOf(prisma, userId, conversation.id, cutoff);
  const head = {
    id: conversation.id,
    type: conversation.type,
    name: conversation.name,
    createdAt: conversation.createdAt,
    membership: { role: participation.role, joinedAt: participation.joinedAt, leftAt: participation.leftAt, muted: participation.muted },
    participants,
  };
  await write(`${options.first ? "" : ","}${json(head).slice(0, -1)},"messages":[`);

  // The seq range of each window (own messages are always inside one); an admin's
  // export keeps the person's own messages of those ranges.
  const ranges = await windowSeqRanges(prisma, conversation.id, windows, conversation.lastSeq);
  let firstMessage = true;
  for (const [from, to] of ranges) {
    let afterSeq = from - 1;
    while (afterSeq < to) {
      signal?.throwIfAborted();
      // Keyset on (conversation_id, seq): an index range scan in seq order that stops
      // at the page's end (retention's gaps cost nothing).
      const rows = await prisma.$queryRaw<MessageRow[]>`
        SELECT m.id::text AS id, m.seq, m.sender_id::text AS sender_id, u.name AS sender_name, m.type::text AS type,
               m.content, m.metadata, m.created_at, m.edited_at, m.deleted_at
          FROM messages m LEFT JOIN users u ON u.id = m.sender_id
         WHERE m.conversation_id = ${conversation.id}::uuid AND m.seq > ${afterSeq} AND m.seq <= ${to}
               ${options.includeOthers ? Prisma.empty : Prisma.sql`AND m.sender_id = ${userId}::uuid`}
         ORDER BY m.seq LIMIT ${options.pageSize}`;
      if (rows.length === 0) break;
      afterSeq = rows[rows.length - 1]!.seq;
      const messages = cutoff === null ? await asTheyAre(prisma, rows) : await asTheyWere(prisma, rows, cutoff);
      const chunk = messages.map(json).join(",");
      await write(firstMessage ? chunk : `,${chunk}`);
      firstMessage = false;
      if (rows.length < options.pageSize) break;
    }
  }
  await write("]}");
}

/**
 * Each window as a range of seqs: from the first message whose `message.created`
 * event is at or after the join to the last one at or before the removal (seq and
 * event id grow together within a conversation: both are taken under its lock).
 * Each bound is one look-up on events (conversation_id, id), which stops at the
 * first match: the system message written with the join or the removal.
 */
async function windowSeqRanges(
  prisma: Db,
  conversationId: string,
  windows: MembershipWindow[],
  lastSeq: number,
): Promise<(readonly [number, number])[]> {
  const ranges: (readonly [number, number])[] = [];
  for (const window of windows) {
    let from = 1;
    if (window.joinedEventId > 0n) {
      const [first] = await prisma.$queryRaw<{ seq: number }[]>`
        SELECT m.seq FROM events e JOIN messages m ON m.id = e.message_id
         WHERE e.conversation_id = ${conversationId}::uuid AND e.id >= ${window.joinedEventId} AND e.type = 'message.created'
         ORDER BY e.id LIMIT 1`;
      if (!first) continue;
      from = first.seq;
    }
    let to = lastSeq;
    if (window.leftEventId !== null) {
      const [last] = await prisma.$queryRaw<{ seq: number }[]>`
        SELECT m.seq FROM events e JOIN messages m ON m.id = e.message_id
         WHERE e.conversation_id = ${conversationId}::uuid AND e.id <= ${window.leftEventId} AND e.type = 'message.created'
         ORDER BY e.id DESC LIMIT 1`;
      if (!last) continue;
      to = Math.min(last.seq, lastSeq);
    }
    if (from <= to) ranges.push([from, to]);
  }
  return ranges.sort((x, y) => x[0] - y[0]);
}

interface MessageRow {
  id: string;
  seq: number;
  sender_id: string | null;
  sender_name: string | null;
  type: "TEXT" | "SYSTEM";
  content: string;
  metadata: Record<string, unknown> | null;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
}

function exported(row: MessageRow, state: Pick<ExportedMessage, "content" | "editedAt" | "deletedAt" | "reactions">): ExportedMessage {
  // A deleted message's files were deleted with it (whenever that was): none to list.
  const files = row.deleted_at ? [] : attachmentsOf(row);
  return {
    id: row.id,
    seq: row.seq,
    senderId: row.sender_id,
    senderName: row.sender_name,
    type: row.type,
    content: state.content,
    createdAt: row.created_at,
    editedAt: state.editedAt,
    deletedAt: state.deletedAt,
    reactions: state.reactions,
    attachments: files.map((file) => ({ id: file.id, name: file.name, contentType: file.contentType, size: file.size, url: attachmentUrl(file.id) })),
  };
}

/** A current member's page: the messages as they are now. */
async function asTheyAre(prisma: Db, rows: MessageRow[]): Promise<ExportedMessage[]> {
  const reactions = await prisma.$queryRaw<{ message_id: string; emoji: string; user_id: string }[]>`
    SELECT message_id::text AS message_id, emoji, user_id::text AS user_id FROM reactions
     WHERE message_id = ANY(${rows.map((row) => row.id)}::uuid[])
     ORDER BY created_at, user_id, emoji`;
  const byMessage = new Map<string, { emoji: string; userId: string }[]>();
  for (const reaction of reactions) {
    const list = byMessage.get(reaction.message_id) ?? [];
    list.push({ emoji: reaction.emoji, userId: reaction.user_id });
    byMessage.set(reaction.message_id, list);
  }
  return rows.map((row) => {
    const deleted = row.deleted_at !== null;
    return exported(row, {
      content: deleted ? null : row.content,
      editedAt: row.edited_at,
      deletedAt: row.deleted_at,
      reactions: deleted ? [] : (byMessage.get(row.id) ?? []),
    });
  });
}

interface WindowState {
  /** The last message.created/updated payload's message within the window. */
  content?: { content: string | null; editedAt: string | null };
  deleted?: true;
  reactions?: { emoji: string; userIds: string[] }[];
}

/**
 * A former member's page: each message as it stood at `cutoff` (the event that
 * removed them the last time), from the last events of each kind up to it: one
 * query on events (message_id) for the page, at most three rows per message.
 */
async function asTheyWere(prisma: Db, rows: MessageRow[], cutoff: bigint): Promise<ExportedMessage[]> {
  const events = await prisma.$queryRaw<{ message_id: string; kind: "content" | "deleted" | "reactions"; payload: Record<string, unknown> }[]>`
    SELECT DISTINCT ON (message_id, kind) message_id::text AS message_id, kind, payload
      FROM (SELECT e.message_id, e.id, e.payload,
                   CASE e.type WHEN 'message.deleted' THEN 'deleted' WHEN 'reaction.updated' THEN 'reactions' ELSE 'content' END AS kind
              FROM events e
             WHERE e.message_id = ANY(${rows.map((row) => row.id)}::uuid[]) AND e.id <= ${cutoff}
               AND e.type IN ('message.created', 'message.updated', 'message.deleted', 'reaction.updated')) seen
     ORDER BY message_id, kind, id DESC`;
  const states = new Map<string, WindowState>();
  for (const event of events) {
    const state = states.get(event.message_id) ?? {};
    if (event.kind === "deleted") state.deleted = true;
    else if (event.kind === "reactions") state.reactions = event.payload.reactions as WindowState["reactions"];
    else state.content = event.payload.message as WindowState["content"];
    states.set(event.message_id, state);
  }
  return rows.map((row) => {
    const state = states.get(row.id) ?? {};
    // Deleted while they were there: as the app showed it to them.
    if (state.deleted) return exported(row, { content: null, editedAt: row.edited_at, deletedAt: row.deleted_at, reactions: [] });
    const seenEditedAt = state.content?.editedAt ? new Date(state.content.editedAt) : null;
    const editedLater = state.content ? (row.edited_at?.getTime() ?? null) !== (seenEditedAt?.getTime() ?? null) : row.edited_at !== null;
    return exported(row, {
      // Not edited since: the row's content is what they saw (even if deleted since,
      // which blanks the stored events but keeps the row). Edited since: the event's
      // content, which a later deletion may have blanked; then it is given as null.
      content: editedLater ? (state.content?.content ?? null) : row.content,
      editedAt: editedLater ? seenEditedAt : row.edited_at,
      deletedAt: null,
      reactions: (state.reactions ?? []).flatMap(({ emoji, userIds }) => userIds.map((reactor) => ({ emoji, userId: reactor }))),
    });
  });
}

/**
 * The participants to list. A current member: everyone who is or was in the
 * conversation, as now. A former member: those with a membership overlapping one
 * of theirs, each with `leftAt` as of the cutoff (the time of the event that
 * removed them, if it came no later than the cutoff).
 */
async function participantsOf(
  prisma: Db,
  userId: string,
  conversationId: string,
  cutoff: bigint | null,
): Promise<{ id: string; name: string; leftAt: Date | null }[]> {
  if (cutoff === null) {
    const rows = await prisma.conversationParticipant.findMany({
      where: { conversationId },
      orderBy: { joinedAt: "asc" },
      select: { leftAt: true, user: { select: { id: true, name: true } } },
    });
    return rows.map((p) => ({ id: p.user.id, name: p.user.name, leftAt: p.leftAt }));
  }
  const rows = await prisma.$queryRaw<{ id: string; name: string; joined_event_id: bigint; left_at: Date | null }[]>`
    SELECT DISTINCT ON (ms.user_id) ms.user_id::text AS id, u.name, ms.joined_event_id,
           CASE WHEN ms.left_event_id <= ${cutoff} THEN COALESCE(le.created_at, p.left_at) END AS left_at
      FROM conversation_memberships ms
      JOIN users u ON u.id = ms.user_id
      LEFT JOIN events le ON le.id = ms.left_event_id
      LEFT JOIN conversation_participants p ON p.conversation_id = ms.conversation_id AND p.user_id = ms.user_id
     WHERE ms.conversation_id = ${conversationId}::uuid
       AND EXISTS (SELECT 1 FROM conversation_memberships mine
                    WHERE mine.conversation_id = ms.conversation_id AND mine.user_id = ${userId}::uuid
                      AND ms.joined_event_id <= COALESCE(mine.left_event_id, ${cutoff})
                      AND (ms.left_event_id IS NULL OR ms.left_event_id >= mine.joined_event_id))
     ORDER BY ms.user_id, ms.joined_event_id DESC`;
  return rows
    .sort((x, y) => (x.joined_event_id === y.joined_event_id ? (x.id < y.id ? -1 : 1) : x.joined_event_id < y.joined_event_id ? -1 : 1))
    .map((row) => ({ id: row.id, name: row.name, leftAt: row.left_at }));
}

/** An admin's export of someone's data is recorded in the audit log (before it is streamed). */
export async function recordUserExport(
  prisma: Db,
  actor: { userId: string; ip: string | null; userAgent: string | null },
  targetUserId: string,
): Promise<void> {
  await recordAudit(prisma, {
    actorId: actor.userId,
    action: "user.exported",
    targetType: "user",
    targetId: targetUserId,
    ip: actor.ip,
    userAgent: actor.userAgent,
  });
}

/** The file name of a download: `who` (an admin's export) names the person. */
export function exportFileName(now = new Date(), who?: string): string {
  const date = now.toISOString().slice(0, 10);
  const slug = who?.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").toLowerCase();
  return slug ? `chatline-export-${slug}-${date}.json` : `chatline-export-${date}.json`;
}
