"use client";

import { DownloadIcon, Loader2Icon, SearchIcon } from "lucide-react";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";

import { Alert, AlertDescription } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "~/components/ui/card";
import { Input } from "~/components/ui/input";
import { Label } from "~/components/ui/label";
import { api } from "~/trpc/react";

/** Hands `data` to the browser as a JSON file download. */
export function downloadJson(data: unknown, fileName: string): void {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.rel = "noopener";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

function fileNameFor(email: string, at: Date): string {
  const who = email.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").toLowerCase() || "user";
  return `chatline-export-${who}-${at.toISOString().slice(0, 10)}.json`;
}

/** Search a person and download their data (export.user; each download is in the audit log). */
export function UserExportPanel() {
  const [query, setQuery] = useState("");
  const [submitted, setSubmitted] = useState("");
  const [pendingId, setPendingId] = useState<string | null>(null);
  const exportUser = api.export.user.useMutation();
  const results = api.users.search.useQuery({ query: submitted }, { enabled: submitted.length > 0, staleTime: 0 });

  const search = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setSubmitted(query.trim());
  };

  const download = async (user: { id: string; email: string; name: string }) => {
    setPendingId(user.id);
    try {
      const data = await exportUser.mutateAsync({ userId: user.id });
      downloadJson(data, fileNameFor(user.email, data.exportedAt));
      toast.success(`${user.name || user.email}'s data is downloading.`);
    } catch (error) {
      toast.error(error instanceof Error ? `The export failed: ${error.message}` : "The export failed.");
    } finally {
      setPendingId(null);
    }
  };

  return (
    <Card aria-labelledby="ops-export-heading">
      <CardHeader>
        <CardTitle>
          <h2 id="ops-export-heading">Export a user&apos;s data</h2>
        </CardTitle>
        <CardDescription>
          Their account, conversations and the messages they could see, as JSON. Each export is recorded in the audit log.
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
                    disabled={pendingId !== null}
                    onClick={() => void download(user)}
                    aria-label={`Download ${user.name || user.email}'s data`}
                  >
                    {pendingId === user.id ? <Loader2Icon className="animate-spin" aria-hidden="true" /> : <DownloadIcon aria-hidden="true" />}
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
