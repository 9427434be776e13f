import type { AppNotification, WireNotification } from "./contracts";

// A notification as the database returns it from raw statements, and the two
// shapes it leaves in: the procedures' (dates) and the events' (ISO strings).

export interface NotificationRow {
  id: string;
  user_id: string;
  category: "SOCIAL" | "SYSTEM";
  title: string;
  body: string;
  link: string | null;
  conversation_id: string | null;
  /** The message the body quotes (not sent to clients: it lets a deletion find the stored events). */
  message_id: string | null;
  count: number;
  read_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The columns every statement returns, in NotificationRow's names (of the table as `alias`). */
export function notificationColumns(alias = "notifications"): string {
  return ["id", "user_id", "category::text AS category", "title", "body", "link", "conversation_id", "message_id", "count", "read_at", "created_at", "updated_at"]
    .map((column) => `${alias}.${column}`)
    .join(", ");
}

export function toNotification(row: NotificationRow): AppNotification {
  return {
    id: row.id,
    category: row.category,
    title: row.title,
    body: row.body,
    link: row.link,
    conversationId: row.conversation_id,
    count: row.count,
    readAt: row.read_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toWireNotification(row: NotificationRow): WireNotification {
  const notification = toNotification(row);
  return {
    ...notification,
    readAt: notification.readAt?.toISOString() ?? null,
    createdAt: notification.createdAt.toISOString(),
    updatedAt: notification.updatedAt.toISOString(),
  };
}

export function fromWireNotification(wire: WireNotification): AppNotification {
  return {
    ...wire,
    readAt: wire.readAt ? new Date(wire.readAt) : null,
    createdAt: new Date(wire.createdAt),
    updatedAt: new Date(wire.updatedAt),
  };
}

/**
 * The event that puts a notification, new or grown, into its owner's bell. It is
 * stored under the quoted message's id, so deleting that message blanks its text
 * in the stored event as well (replay must not bring it back).
 */
export function upsertedEvent(row: NotificationRow) {
  return {
    type: "notification.upserted",
    userId: row.user_id,
    messageId: row.message_id,
    payload: { type: "notification.upserted", notification: toWireNotification(row) },
  };
}
