"use client";

import { DownloadIcon, Loader2Icon, SearchIcon } from "lucide-react";
import { useState, type FormEvent } from "react";

import { Alert, AlertDescription } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "~/components/ui/card";
import { Input } from "~/components/ui/input";
import { Label } from "~/components/ui/label";
import { useExportDownload, userExportUrl } from "~/features/ops/download-export";
import { api } from "~/trpc/react";

/**
 * Search a person and download their data: GET /api/export?userId= (streamed by
 * the server and named by it, each download recorded in the audit log), fetched by
 * `downloadExport` so a refusal shows its reason in a toast. One at a time: the
 * server allows one export under way per admin.
 */
export function UserExportPanel() {
  const [query, setQuery] = useState("");
  const [submitted, setSubmitted] = useState("");
  const exportDownload = useExportDownload();
  const results = api.users.search.useQuery({ query: submitted }, { enabled: submitted.length > 0, staleTime: 0 });

  const search = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setSubmitted(query.trim());
  };

  return (
    <Card aria-labelledby="ops-export-heading">
      <CardHeader>
        <CardTitle>
          <h2 id="ops-export-heading">Export a user&apos;s data</h2>
        </CardTitle>
        <CardDescription>
          Their account, their conversations and the messages they wrote there (not what others wrote to them), as
          JSON. Each export is recorded in the audit log; downloads are limited (one a minute by default).
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        <form onSubmit={search} role="search" className="flex items-end gap-2">
          <div className="grid flex-1 gap-2">
            <Label htmlFor="export-user-query">Name or email</Label>
            <Input
              id="export-user-query"
              value={query}
              onChange={(event) => setQuery(event.target.value)}
              maxLength={100}
              autoComplete="off"
              placeholder="ana@example.com"
            />
          </div>
          <Button type="submit" variant="outline" disabled={query.trim().length === 0}>
            <SearchIcon aria-hidden="true" />
            Search
          </Button>
        </form>
        {submitted.length > 0 &&
          (results.isPending ? (
            <p className="text-muted-foreground text-sm" role="status">
              Searching…
            </p>
          ) : results.isError ? (
            <Alert variant="destructive">
              <AlertDescription>The search failed. {results.error.message}</AlertDescription>
            </Alert>
          ) : results.data.length === 0 ? (
            <p className="text-muted-foreground text-sm" role="status">
              Nobody matches “{submitted}”.
            </p>
          ) : (
            <ul className="grid gap-2" aria-label="Matching people">
              {results.data.map((user) => (
                <li key={user.id} className="flex items-center justify-between gap-3 rounded-lg border p-3">
                  <div className="grid min-w-0">
                    <span className="truncate text-sm font-medium">{user.name}</span>
                    <span className="text-muted-foreground truncate text-xs">{user.email}</span>
                  </div>
                  <Button
                    size="sm"
                    variant="outline"
                    // The accessible name starts with the visible text.
                    aria-label={`Download JSON for ${user.name || user.email}`}
                    aria-busy={exportDownload.pending === userExportUrl(user.id)}
                    disabled={exportDownload.pending !== null}
                    onClick={() => void exportDownload.start(userExportUrl(user.id))}
                  >
                    {exportDownload.pending === userExportUrl(user.id) ? (
                      <Loader2Icon className="animate-spin" aria-hidden="true" />
                    ) : (
                      <DownloadIcon aria-hidden="true" />
                    )}
                    Download JSON
                  </Button>
                </li>
              ))}
            </ul>
          ))}
      </CardContent>
    </Card>
  );
}
