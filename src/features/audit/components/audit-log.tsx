"use client";

import { Loader2Icon } from "lucide-react";
import { useState, type FormEvent } from "react";

import { Alert, AlertDescription } from "~/components/ui/alert";
import { Badge } from "~/components/ui/badge";
import { Button } from "~/components/ui/button";
import { Input } from "~/components/ui/input";
import { Label } from "~/components/ui/label";
import { NativeSelect, NativeSelectOption } from "~/components/ui/native-select";
import { Skeleton } from "~/components/ui/skeleton";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "~/components/ui/table";
import { SETTINGS_KEYS } from "~/features/settings/contracts";
import { formatSettingValue, SETTING_LABELS } from "~/features/settings/setting-labels";
import { api } from "~/trpc/react";
import { AUDIT_ACTIONS, auditListInput, type AuditEntryView, type AuditListInput } from "../contracts";

const PAGE_SIZE = 25;
const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

interface FilterFields {
  action: string;
  actor: string;
  /** A conversation's id: its whole audit trail. */
  conversation: string;
  /** yyyy-mm-dd, local days: from the start of `from` to the end of `to`. */
  from: string;
  to: string;
}

const NO_FILTERS: FilterFields = { action: "", actor: "", conversation: "", from: "", to: "" };

/** The fields that can hold a mistake, with the message shown under each. */
type FieldErrors = Partial<Record<"conversationId" | "to", string>>;

function startOfLocalDay(day: string): Date {
  return new Date(`${day}T00:00:00`);
}

function toInput(fields: FilterFields): AuditListInput {
  const end = fields.to ? startOfLocalDay(fields.to) : undefined;
  end?.setDate(end.getDate() + 1);
  return {
    action: fields.action || undefined,
    actor: fields.actor.trim() || undefined,
    conversationId: fields.conversation.trim().toLowerCase() || undefined,
    from: fields.from ? startOfLocalDay(fields.from) : undefined,
    to: end,
    limit: PAGE_SIZE,
  };
}

/** The audit log: filters by action, actor, conversation and days, newest first, more on request. */
export function AuditLog() {
  const [fields, setFields] = useState<FilterFields>(NO_FILTERS);
  const [applied, setApplied] = useState<AuditListInput>(() => toInput(NO_FILTERS));
  const [errors, setErrors] = useState<FieldErrors>({});
  const log = api.audit.list.useInfiniteQuery(applied, {
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    refetchOnWindowFocus: false,
  });
  const entries = log.data?.pages.flatMap((page) => page.items) ?? [];

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const input = toInput(fields);
    const checked = auditListInput.safeParse(input);
    if (!checked.success) {
      const found: FieldErrors = {};
      for (const issue of checked.error.issues) {
        const field = issue.path[0] === "conversationId" ? "conversationId" : "to";
        found[field] ??= issue.message;
      }
      setErrors(found);
      return;
    }
    setErrors({});
    setApplied(input);
  };
  const reset = () => {
    setFields(NO_FILTERS);
    setErrors({});
    setApplied(toInput(NO_FILTERS));
  };
  /** Everything recorded about one conversation (from a row's target). */
  const showConversation = (conversationId: string) => {
    const next = { ...NO_FILTERS, conversation: conversationId };
    setFields(next);
    setErrors({});
    setApplied(toInput(next));
  };
  const set = (name: keyof FilterFields) => (event: { target: { value: string } }) =>
    setFields((current) => ({ ...current, [name]: event.target.value }));

  return (
    <div className="grid gap-4">
      <form onSubmit={apply} noValidate aria-label="Filter the audit log" className="grid gap-3 rounded-xl border p-4 sm:grid-cols-2 lg:grid-cols-5">
        <div className="grid gap-2">
          <Label htmlFor="audit-action">Action</Label>
          <NativeSelect id="audit-action" value={fields.action} onChange={set("action")}>
            <NativeSelectOption value="">Any action</NativeSelectOption>
            {AUDIT_ACTIONS.map((action) => (
              <NativeSelectOption key={action} value={action}>
                {action}
              </NativeSelectOption>
            ))}
          </NativeSelect>
        </div>
        <div className="grid gap-2">
          <Label htmlFor="audit-actor">Actor</Label>
          <Input id="audit-actor" type="search" placeholder="Name or email" value={fields.actor} onChange={set("actor")} />
        </div>
        <div className="grid gap-2">
          <Label htmlFor="audit-conversation">Conversation</Label>
          <Input
            id="audit-conversation"
            type="search"
            placeholder="Conversation id"
            spellCheck={false}
            autoComplete="off"
            value={fields.conversation}
            onChange={set("conversation")}
            {...describedByError("audit-conversation-error", errors.conversationId)}
          />
          <FieldError id="audit-conversation-error" message={errors.conversationId} />
        </div>
        <div className="grid gap-2">
          <Label htmlFor="audit-from">From</Label>
          <Input id="audit-from" type="date" value={fields.from} onChange={set("from")} />
        </div>
        <div className="grid gap-2">
          <Label htmlFor="audit-to">To</Label>
          <Input
            id="audit-to"
            type="date"
            value={fields.to}
            onChange={set("to")}
            {...describedByError("audit-range-error", errors.to)}
          />
          <FieldError id="audit-range-error" message={errors.to} />
        </div>
        <div className="flex gap-2 sm:col-span-2 lg:col-span-5">
          <Button type="submit">Apply filters</Button>
          <Button type="button" variant="outline" onClick={reset}>
            Reset
          </Button>
        </div>
      </form>

      {log.isPending ? (
        <div className="grid gap-2" role="status" aria-label="Loading the audit log">
          <Skeleton className="h-10" />
          <Skeleton className="h-10" />
          <Skeleton className="h-10" />
        </div>
      ) : log.isError ? (
        <Alert variant="destructive">
          <AlertDescription>The audit log could not be loaded. {log.error.message}</AlertDescription>
        </Alert>
      ) : entries.length === 0 ? (
        <p className="text-muted-foreground rounded-xl border p-6 text-center text-sm">No entries match these filters.</p>
      ) : (
        <div className="rounded-xl border">
          <Table aria-label="Audit log entries">
            <TableHeader>
              <TableRow>
                <TableHead>When</TableHead>
                <TableHead>Action</TableHead>
                <TableHead>Actor</TableHead>
                <TableHead>Target</TableHead>
                <TableHead>From</TableHead>
                <TableHead>Details</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {entries.map((entry) => (
                <TableRow key={entry.id}>
                  <TableCell>
                    <time dateTime={entry.at.toISOString()}>{when.format(entry.at)}</time>
                  </TableCell>
                  <TableCell>
                    <Badge variant="secondary" className="font-mono">
                      {entry.action}
                    </Badge>
                  </TableCell>
                  <TableCell>
                    {entry.actor ? (
                      <span className="grid">
                        <span>{entry.actor.name || entry.actor.email}</span>
                        <span className="text-muted-foreground text-xs">{entry.actor.email}</span>
                      </span>
                    ) : (
                      <span className="text-muted-foreground">—</span>
                    )}
                  </TableCell>
                  <TableCell className="text-xs">
                    {entry.conversationId ? (
                      <Button
                        type="button"
                        variant="link"
                        size="sm"
                        className="h-auto p-0 text-xs"
                        onClick={() => showConversation(entry.conversationId!)}
                        title={`Everything recorded about conversation ${entry.conversationId}`}
                      >
                        {targetOf(entry)}
                      </Button>
                    ) : (
                      targetOf(entry)
                    )}
                  </TableCell>
                  <TableCell className="font-mono text-xs">{entry.ip ?? "—"}</TableCell>
                  <TableCell className="max-w-md text-xs whitespace-normal">{detailsOf(entry)}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}

      {log.hasNextPage && (
        <Button variant="outline" className="justify-self-start" onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
          {log.isFetchingNextPage && <Loader2Icon className="animate-spin" aria-hidden="true" />}
          Load more
        </Button>
      )}
    </div>
  );
}

function targetOf(entry: AuditEntryView): string {
  if (entry.conversationId) return `conversation ${entry.conversationId.slice(0, 8)}`;
  if (entry.targetType) return entry.targetId ? `${entry.targetType} ${entry.targetId.slice(0, 8)}` : entry.targetType;
  return "—";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

type SettingValue = Parameters<typeof formatSettingValue>[1];

function asSettingValue(value: unknown): SettingValue {
  if (typeof value === "boolean" || typeof value === "number" || typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(String);
  return null;
}

/** What happened, briefly: a settings change as "field: before → after", anything else as its metadata. */
function detailsOf(entry: AuditEntryView): string {
  const metadata = entry.metadata;
  if (!isRecord(metadata)) return entry.userAgent ? `Browser: ${entry.userAgent}` : "—";
  if (entry.action === "settings.updated" && isRecord(metadata.changes)) {
    const changes = metadata.changes;
    return SETTINGS_KEYS.filter((key) => isRecord(changes[key]))
      .map((key) => {
        const { from, to } = changes[key] as Record<string, unknown>;
        return `${SETTING_LABELS[key]}: ${formatSettingValue(key, asSettingValue(from))} → ${formatSettingValue(key, asSettingValue(to))}`;
      })
      .join("; ");
  }
  return Object.entries(metadata)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join("; ");
}

/** An input's link to the message under it, while there is one. */
function describedByError(id: string, message: string | undefined) {
  return message ? { "aria-invalid": true, "aria-describedby": id } : {};
}

function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} className="text-destructive text-sm">
      {message}
    </p>
  );
}
