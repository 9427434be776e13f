"use client";

import { useEffect, useState } from "react";
import { useRouter } from "next/navigation";
import { PlusIcon } from "lucide-react";
import { toast } from "sonner";
import { Button } from "~/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle, DialogTrigger } from "~/components/ui/dialog";
import { Input } from "~/components/ui/input";
import { Label } from "~/components/ui/label";
import { api } from "~/trpc/react";

const SEARCH_DEBOUNCE_MS = 250;

function useDebounced<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

/** Search people and open the direct conversation with one (creating it if needed). */
export function NewConversationDialog() {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState("");
  const search = useDebounced(query.trim(), SEARCH_DEBOUNCE_MS);
  const people = api.users.search.useQuery({ query: search }, { enabled: open && search.length > 0 });
  const createDirect = api.conversations.createDirect.useMutation({
    onSuccess(conversation) {
      setOpen(false);
      setQuery("");
      router.push(`/messages/${conversation.id}`);
    },
    onError(error) {
      toast.error(error.message);
    },
  });

  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button size="sm">
          <PlusIcon aria-hidden="true" />
          New conversation
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>New conversation</DialogTitle>
          <DialogDescription>Find someone by name or email.</DialogDescription>
        </DialogHeader>
        <div className="grid gap-2">
          <Label htmlFor="people-search">Search people</Label>
          <Input id="people-search" value={query} onChange={(event) => setQuery(event.target.value)} autoComplete="off" autoFocus />
        </div>
        <ul className="grid max-h-72 gap-1 overflow-y-auto" aria-label="People" aria-busy={people.isFetching}>
          {people.data?.map((person) => (
            <li key={person.id}>
              <Button
                variant="ghost"
                className="h-auto w-full justify-start px-2 py-2 text-left"
                disabled={createDirect.isPending}
                onClick={() => createDirect.mutate({ recipientId: person.id })}
              >
                <span className="grid">
                  <span className="font-medium">{person.name}</span>
                  <span className="text-muted-foreground text-xs">{person.email}</span>
                </span>
              </Button>
            </li>
          ))}
          {search.length > 0 && people.data?.length === 0 && (
            <li className="text-muted-foreground px-2 py-2 text-sm">Nobody matches “{search}”.</li>
          )}
        </ul>
      </DialogContent>
    </Dialog>
  );
}
