"use client";

import { ArrowRightIcon, Loader2Icon } from "lucide-react";

import { Alert, AlertDescription } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "~/components/ui/card";
import { Skeleton } from "~/components/ui/skeleton";
import { api } from "~/trpc/react";
import { formatSettingValue, SETTING_LABELS } from "../setting-labels";

const PAGE_SIZE = 10;
const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Who changed which settings when, each field before → after; newest first, a page at a time. */
export function SettingsHistory() {
  const history = api.settings.history.useInfiniteQuery(
    { limit: PAGE_SIZE },
    { getNextPageParam: (page) => page.nextCursor ?? undefined, refetchOnWindowFocus: false },
  );
  const entries = history.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2 id="settings-history-heading">History of changes</h2>
        </CardTitle>
        <CardDescription>Every change to these settings, from the audit log.</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {history.isPending ? (
          <div className="grid gap-3" aria-label="Loading the history" role="status">
            <Skeleton className="h-12" />
            <Skeleton className="h-12" />
          </div>
        ) : history.isError ? (
          <Alert variant="destructive">
            <AlertDescription>The history could not be loaded. {history.error.message}</AlertDescription>
          </Alert>
        ) : entries.length === 0 ? (
          <p className="text-muted-foreground text-sm">Nobody has changed the settings yet.</p>
        ) : (
          <ol aria-labelledby="settings-history-heading" className="grid gap-3">
            {entries.map((entry) => (
              <li key={entry.id} className="grid gap-2 rounded-lg border p-3">
                <p className="text-sm">
                  <span className="font-medium">{entry.actor ? entry.actor.name || entry.actor.email : "A deleted account"}</span>{" "}
                  <span className="text-muted-foreground">
                    changed {entry.changes.length === 1 ? "1 setting" : `${entry.changes.length} settings`} ·{" "}
                    <time dateTime={entry.at.toISOString()}>{when.format(entry.at)}</time>
                  </span>
                </p>
                <ul className="grid gap-1 text-sm">
                  {entry.changes.map((change) => (
                    <li key={change.field} className="flex flex-wrap items-center gap-x-2">
                      <span className="text-muted-foreground">{SETTING_LABELS[change.field]}:</span>
                      <span>{formatSettingValue(change.field, change.from)}</span>
                      <ArrowRightIcon className="text-muted-foreground size-3.5" aria-label="changed to" role="img" />
                      <span className="font-medium">{formatSettingValue(change.field, change.to)}</span>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ol>
        )}
        {history.hasNextPage && (
          <Button variant="outline" className="justify-self-start" onClick={() => void history.fetchNextPage()} disabled={history.isFetchingNextPage}>
            {history.isFetchingNextPage && <Loader2Icon className="animate-spin" aria-hidden="true" />}
            Show older changes
          </Button>
        )}
      </CardContent>
    </Card>
  );
}
