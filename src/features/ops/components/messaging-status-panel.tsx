"use client";

import { Alert, AlertDescription } from "~/components/ui/alert";
import { Badge } from "~/components/ui/badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "~/components/ui/card";
import { Skeleton } from "~/components/ui/skeleton";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "~/components/ui/table";
import { api } from "~/trpc/react";

/** How often the page asks again: the instances' heartbeats are 5 s apart too. */
export const STATUS_REFRESH_MS = 5_000;

const when = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

const COLUMNS = [
  { key: "sockets", label: "Sockets", hint: "Open WebSocket connections" },
  { key: "subscribers", label: "Streams", hint: "Open event subscriptions" },
  { key: "onlineUsers", label: "Online users", hint: "Distinct users with an event stream" },
  { key: "typingUsers", label: "Typing users", hint: "Typing indicators not yet expired" },
  { key: "activeConversations", label: "Active conversations", hint: "A message or typing in the active window" },
] as const;

/** admin.status, refreshed every 5 s: the totals, then each instance. */
export function MessagingStatusPanel() {
  const status = api.admin.status.useQuery(undefined, {
    refetchInterval: STATUS_REFRESH_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
  const report = status.data;

  return (
    <Card aria-labelledby="ops-status-heading">
      <CardHeader>
        <CardTitle>
          <h2 id="ops-status-heading">Live status</h2>
        </CardTitle>
        <CardDescription>
          Refreshed every 5 seconds.
          {report && (
            <>
              {" "}
              As of <time dateTime={report.generatedAt}>{when.format(new Date(report.generatedAt))}</time>; active means
              within the last {Math.round(report.activeWindowSeconds / 60)} minutes.
            </>
          )}
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {status.isPending ? (
          <div className="grid gap-3 sm:grid-cols-5" role="status" aria-label="Loading the status">
            {COLUMNS.map((column) => (
              <Skeleton key={column.key} className="h-16" />
            ))}
          </div>
        ) : status.isError && !report ? (
          <Alert variant="destructive">
            <AlertDescription>The status could not be loaded. {status.error.message}</AlertDescription>
          </Alert>
        ) : report ? (
          <>
            {status.isError && (
              <Alert variant="destructive">
                <AlertDescription>The latest refresh failed; these numbers may be old. {status.error.message}</AlertDescription>
              </Alert>
            )}
            {!report.complete && (
              <Alert>
                <AlertDescription>Redis could not be read: the numbers are this instance&apos;s alone.</AlertDescription>
              </Alert>
            )}
            <dl className="grid grid-cols-2 gap-3 sm:grid-cols-5" aria-label="Totals">
              {COLUMNS.map((column) => (
                <div key={column.key} className="grid gap-1 rounded-lg border p-3" title={column.hint}>
                  <dt className="text-muted-foreground text-xs">{column.label}</dt>
                  <dd className="text-2xl font-semibold tabular-nums" data-testid={`status-total-${column.key}`}>
                    {report.total[column.key]}
                  </dd>
                </div>
              ))}
            </dl>
            <div className="flex items-center gap-2 text-sm">
              <span className="text-muted-foreground">
                {report.total.instances === 1 ? "1 instance" : `${report.total.instances} instances`}
              </span>
              <Badge variant="outline">{report.source === "redis" ? "shared through Redis" : "this process only"}</Badge>
            </div>
            <Table aria-label="Per instance">
              <TableHeader>
                <TableRow>
                  <TableHead>Instance</TableHead>
                  {COLUMNS.map((column) => (
                    <TableHead key={column.key} className="text-right">
                      {column.label}
                    </TableHead>
                  ))}
                  <TableHead>Reported</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {report.instances.map((instance) => (
                  <TableRow key={instance.instanceId}>
                    <TableCell className="max-w-40 truncate font-mono text-xs" title={instance.instanceId}>
                      {instance.instanceId}
                    </TableCell>
                    {COLUMNS.map((column) => (
                      <TableCell key={column.key} className="text-right tabular-nums">
                        {instance[column.key]}
                      </TableCell>
                    ))}
                    <TableCell className="text-muted-foreground text-xs">
                      <time dateTime={instance.reportedAt}>{when.format(new Date(instance.reportedAt))}</time>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </>
        ) : null}
      </CardContent>
    </Card>
  );
}
