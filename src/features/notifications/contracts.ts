import { z } from "zod";

// The notification centre's contracts: the bell's list and badge, the person's
// preferences (per category and channel, do-not-disturb), browser push
// subscriptions and the admins' system notifications. Shared by the procedures,
// the forms and the event stream.

export const notificationCategorySchema = z.enum(["SOCIAL", "SYSTEM"]);
export type NotificationCategory = z.infer<typeof notificationCategorySchema>;

/** What each category is, for the preferences page. */
export const CATEGORY_LABELS: Record<NotificationCategory, { label: string; description: string }> = {
  SOCIAL: { label: "Messages", description: "New messages in your conversations" },
  SYSTEM: { label: "Announcements", description: "Notices from the administrators" },
};

/**
 * The channels each category goes out on. Email is the digest of unread messages;
 * announcements are not mailed (a notice to everyone would be a mass mailing).
 */
export const CATEGORY_CHANNELS: Record<NotificationCategory, readonly ("inApp" | "email" | "push")[]> = {
  SOCIAL: ["inApp", "email", "push"],
  SYSTEM: ["inApp", "push"],
};

export const notificationSchema = z.object({
  id: z.uuid(),
  category: notificationCategorySchema,
  title: z.string(),
  body: z.string(),
  /** A path inside the app ("/messages/<id>"), or null. */
  link: z.string().nullable(),
  conversationId: z.uuid().nullable(),
  /** How many messages this one notification stands for (a burst collapses into one). */
  count: z.number().int(),
  readAt: z.date().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type AppNotification = z.infer<typeof notificationSchema>;

/** A notification as events carry it: dates as ISO strings (events are stored as JSON). */
export const wireNotificationSchema = notificationSchema.extend({
  readAt: z.iso.datetime({ offset: true }).nullable(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type WireNotification = z.infer<typeof wireNotificationSchema>;

/** Newest first; the cursor is the last item's (updatedAt, id). */
export const notificationCursorSchema = z
  .string()
  .regex(/^\d{1,15}:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "Not a notification cursor.");

export const listNotificationsInput = z.object({
  limit: z.number().int().min(1).max(50).default(20),
  cursor: notificationCursorSchema.nullish(),
  unreadOnly: z.boolean().default(false),
});
export type ListNotificationsInput = z.input<typeof listNotificationsInput>;

export const listNotificationsOutput = z.object({
  items: z.array(notificationSchema),
  nextCursor: notificationCursorSchema.nullable(),
});

export const markReadInput = z.object({ ids: z.array(z.uuid()).min(1).max(100) });
export const deleteNotificationInput = z.object({ id: z.uuid() });
export const unreadCountOutput = z.object({ unread: z.number().int() });
export const changedCountOutput = z.object({ changed: z.number().int() });

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "Give a time as HH:MM (24-hour).");

/** An IANA time zone this server knows ("Europe/Berlin"). */
export const timeZoneSchema = z.string().min(1).max(64).refine((zone) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, "Choose a time zone from the list.");

export const channelPreferenceSchema = z.object({ inApp: z.boolean(), email: z.boolean(), push: z.boolean() });

export const doNotDisturbSchema = z.object({
  enabled: z.boolean(),
  start: hhmm,
  end: hhmm,
  timeZone: timeZoneSchema,
});

export const notificationPreferencesSchema = z.object({
  categories: z.object({ SOCIAL: channelPreferenceSchema, SYSTEM: channelPreferenceSchema }),
  doNotDisturb: doNotDisturbSchema,
});
export type NotificationPreferences = z.infer<typeof notificationPreferencesSchema>;

/** preferences.get also says which channels this server can use at all. */
export const preferencesOutput = notificationPreferencesSchema.extend({
  /** Whether the person ever saved a do-not-disturb schedule (else it shows the defaults, in UTC). */
  doNotDisturbSaved: z.boolean(),
  available: z.object({ email: z.boolean(), push: z.boolean() }),
  /** The VAPID public key browsers subscribe with, when push is available. */
  vapidPublicKey: z.string().nullable(),
  /** Minutes offline before unread messages go out by email, and the least time between two digests. */
  emailDigest: z.object({ afterMinutes: z.number().int(), intervalMinutes: z.number().int() }),
});
export type PreferencesOutput = z.infer<typeof preferencesOutput>;

/** preferences.update: any part; the rest stays. */
export const updatePreferencesInput = z
  .object({
    categories: z
      .object({ SOCIAL: channelPreferenceSchema.partial(), SYSTEM: channelPreferenceSchema.partial() })
      .partial()
      .optional(),
    doNotDisturb: doNotDisturbSchema.partial().optional(),
  })
  .refine((input) => input.categories !== undefined || input.doNotDisturb !== undefined, "Change at least one preference.");
export type UpdatePreferencesInput = z.infer<typeof updatePreferencesInput>;

/** A browser's PushSubscription.toJSON(), as much of it as sending needs. */
export const pushSubscribeInput = z.object({
  endpoint: z.url().max(2048).refine((url) => url.startsWith("https://"), "A push endpoint is an https:// address."),
  keys: z.object({
    p256dh: z.string().regex(/^[A-Za-z0-9_-]{80,100}$/, "Not a push subscription key."),
    auth: z.string().regex(/^[A-Za-z0-9_-]{16,32}$/, "Not a push subscription secret."),
  }),
});
export const pushUnsubscribeInput = z.object({ endpoint: z.string().max(2048) });

export const SYSTEM_NOTIFICATION_LIMITS = { title: 120, body: 1000 } as const;

/** notifications.sendSystem: an announcement to everyone, or to the holders of one role. */
export const sendSystemNotificationInput = z.object({
  title: z.string().trim().min(1, "Give the notice a title.").max(SYSTEM_NOTIFICATION_LIMITS.title),
  body: z.string().trim().max(SYSTEM_NOTIFICATION_LIMITS.body).default(""),
  /** A path inside the app, or nothing. */
  link: z
    .string()
    .trim()
    .regex(/^\/(?![/\\])[^\s\\]*$/, "A link is a path inside the app, such as /messages.")
    .max(500)
    .nullish(),
  audience: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("everyone") }),
    z.object({ kind: z.literal("role"), roleId: z.uuid() }),
  ]),
});
export type SendSystemNotificationInput = z.input<typeof sendSystemNotificationInput>;
export const sendSystemNotificationOutput = z.object({ recipients: z.number().int() });

/** notifications.audienceRoles: the roles an announcement may go to, with how many hold each. */
export const audienceRolesOutput = z.object({
  roles: z.array(z.object({ id: z.uuid(), name: z.string(), memberCount: z.number().int() })),
});
