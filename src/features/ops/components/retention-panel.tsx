"use client";

import Link from "next/link";

import { Alert, AlertDescription } from "~/components/ui/alert";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "~/components/ui/card";
import { Skeleton } from "~/components/ui/skeleton";
import { api } from "~/trpc/react";

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const count = new Intl.NumberFormat();

function every(intervalMs: number): string {
  const hours = intervalMs / 3_600_000;
  if (hours === 24) return "once a day";
  if (hours >= 1 && Number.isInteger(hours)) return `every ${hours} hours`;
  const minutes = Math.round(intervalMs / 60_000);
  return minutes >= 1 ? `every ${minutes} minutes` : `every ${Math.round(intervalMs / 1000)} seconds`;
}

/** The retention period, what the next run would delete, and this instance's schedule. */
export function RetentionPanel({ canEditSettings }: { canEditSettings: boolean }) {
  const preview = api.admin.retentionPreview.useQuery(undefined, { refetchInterval: 60_000, staleTime: 0 });
  const data = preview.data;

  return (
    <Card aria-labelledby="ops-retention-heading">
      <CardHeader>
        <CardTitle>
          <h2 id="ops-retention-heading">Message retention</h2>
        </CardTitle>
        <CardDescription>Messages older than the retention period are deleted for good, with their reactions and receipts.</CardDescription>
      </CardHeader>
      <CardContent>
        {preview.isPending ? (
          <div className="grid gap-3 sm:grid-cols-3" role="status" aria-label="Loading retention">
            <Skeleton className="h-16" />
            <Skeleton className="h-16" />
            <Skeleton className="h-16" />
          </div>
        ) : preview.isError ? (
          <Alert variant="destructive">
            <AlertDescription>Retention could not be loaded. {preview.error.message}</AlertDescription>
          </Alert>
        ) : data ? (
          <dl className="grid gap-3 sm:grid-cols-3">
            <div className="grid gap-1 rounded-lg border p-3">
              <dt className="text-muted-foreground text-xs">Retention period</dt>
              <dd className="text-2xl font-semibold tabular-nums">
                {data.retentionDays} {data.retentionDays === 1 ? "day" : "days"}
              </dd>
              {canEditSettings && (
                <dd className="text-xs">
                  <Link href="/dashboard/settings/messaging" className="underline underline-offset-4">
                    Change in settings
                  </Link>
                </dd>
              )}
            </div>
            <div className="grid gap-1 rounded-lg border p-3">
              <dt className="text-muted-foreground text-xs">The next run would delete</dt>
              <dd className="text-2xl font-semibold tabular-nums" data-testid="retention-messages">
                {count.format(data.messages)} {data.messages === 1 ? "message" : "messages"}
              </dd>
              <dd className="text-muted-foreground text-xs">
                sent before <time dateTime={data.cutoff.toISOString()}>{when.format(data.cutoff)}</time>
              </dd>
            </div>
            <div className="grid gap-1 rounded-lg border p-3">
              <dt className="text-muted-foreground text-xs">Schedule (this instance)</dt>
              {data.schedule ? (
                <>
                  <dd className="text-sm">
                    Runs {every(data.schedule.intervalMs)}; next at{" "}
                    <time dateTime={data.schedule.nextRunAt.toISOString()}>{when.format(data.schedule.nextRunAt)}</time>
                  </dd>
                  <dd className="text-muted-foreground text-xs">
                    {data.schedule.lastRun ? (
                      <>
                        Last run{" "}
                        <time dateTime={data.schedule.lastRun.finishedAt.toISOString()}>
                          {when.format(data.schedule.lastRun.finishedAt)}
                        </time>
                        :{" "}
                        {data.schedule.lastRun.failed
                          ? "failed (the next run retries)"
                          : data.schedule.lastRun.ran
                            ? `deleted ${count.format(data.schedule.lastRun.deletedMessages)} ${
                                data.schedule.lastRun.deletedMessages === 1 ? "message" : "messages"
                              } and ${count.format(data.schedule.lastRun.deletedAuditEntries)} audit ${
                                data.schedule.lastRun.deletedAuditEntries === 1 ? "entry" : "entries"
                              }`
                            : "another instance was running it"}
                      </>
                    ) : (
                      "No run since this instance started."
                    )}
                  </dd>
                </>
              ) : (
                <dd className="text-sm">Off on this instance (RETENTION_INTERVAL_MS=0).</dd>
              )}
            </div>
          </dl>
        ) : null}
      </CardContent>
    </Card>
  );
}
