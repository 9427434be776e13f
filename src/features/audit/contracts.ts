import { z } from "zod";

// The audit log as admins read it (audit.list, audit.actions); shared by the
// procedures and the admin page's filters.

/**
 * Every action the audit log records, sorted: a closed set, so recordAudit takes
 * nothing else and the filter needs no query (audit.actions returns this list).
 * A new audited change adds its action here.
 */
export const AUDIT_ACTIONS = [
  "auth.sign_in_failed",
  "auth.sign_in_throttled",
  "auth.signed_up",
  "conversation.created",
  "conversation.participant_removed",
  "conversation.participants_added",
  "message.deleted_by_admin",
  "notification.system_sent",
  "role.permissions_changed",
  "settings.updated",
  "user.exported",
  "user.roles_changed",
] as const;
export const auditActionSchema = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof auditActionSchema>;

/** A row id (a bigint, as decimal digits): where the next page starts. */
export const auditCursorSchema = z
  .string()
  .refine((cursor) => /^[1-9][0-9]{0,18}$/.test(cursor) && BigInt(cursor) <= 9_223_372_036_854_775_807n, "Not a valid cursor.");

export const AUDIT_PAGE_SIZE = { default: 25, max: 100 } as const;

/** audit.list: newest first; every filter is optional and they combine. */
export const auditListInput = z
  .object({
    /**
     * Exactly this action ("settings.updated"). Any string, not only AUDIT_ACTIONS:
     * entries written under an action since renamed or retired stay findable.
     */
    action: z.string().trim().min(1).max(100).optional(),
    /**
     * Entries about this conversation: its creation, people added and removed,
     * messages a moderator deleted (each records the conversation in `conversationId`).
     */
    conversationId: z.uuid("Enter a conversation id (a UUID).").optional(),
    /** Part of the actor's name or email, any case. */
    actor: z.string().trim().min(1).max(200).optional(),
    /** Entries at or after this instant. */
    from: z.date().optional(),
    /** Entries before this instant. */
    to: z.date().optional(),
    cursor: auditCursorSchema.nullish(),
    limit: z.number().int().min(1).max(AUDIT_PAGE_SIZE.max).default(AUDIT_PAGE_SIZE.default),
  })
  .refine((input) => !input.from || !input.to || input.from < input.to, {
    path: ["to"],
    message: "The end of the range must be after its start.",
  });
export type AuditListInput = z.input<typeof auditListInput>;

export const auditEntrySchema = z.object({
  id: z.string(),
  at: z.date(),
  action: z.string(),
  /** Null for a failed sign-in, the system, or an account deleted since. */
  actor: z.object({ id: z.uuid(), name: z.string(), email: z.string() }).nullable(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  conversationId: z.string().nullable(),
  metadata: z.json().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
});
export type AuditEntryView = z.infer<typeof auditEntrySchema>;

export const auditListOutput = z.object({
  items: z.array(auditEntrySchema),
  nextCursor: z.string().nullable(),
});
export type AuditListOutput = z.infer<typeof auditListOutput>;

/** audit.actions: every action the log records (AUDIT_ACTIONS), for the filter. */
export const auditActionsOutput = z.array(auditActionSchema);
