"use client";

import { useEffect, useState } from "react";
import { XIcon } from "lucide-react";
import { Avatar, AvatarFallback, AvatarImage } from "~/components/ui/avatar";
import { Button } from "~/components/ui/button";
import { Input } from "~/components/ui/input";
import { Label } from "~/components/ui/label";
import { cn } from "~/lib/utils";
import { initialsOf } from "./conversation-title";

// Small pieces shared by the conversation list, the new-conversation dialog and the conversation menu.

export const SEARCH_DEBOUNCE_MS = 250;

/** `value`, once it has stopped changing for `delayMs`. */
/**
 * `value` once it has stopped changing for `delayMs`, and a way to take the current
 * value at once (Enter in a search field).
 */
export function useDebouncedNow<T>(value: T, delayMs: number = SEARCH_DEBOUNCE_MS): [T, () => void] {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    if (Object.is(value, debounced)) return;
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, debounced, delayMs]);
  return [debounced, () => setDebounced(value)];
}

export function useDebounced<T>(value: T, delayMs: number = SEARCH_DEBOUNCE_MS): T {
  return useDebouncedNow(value, delayMs)[0];
}

export interface PersonSummary {
  id: string;
  name: string;
  image: string | null;
  email?: string;
}

/** A decorative avatar: the name is always written next to it. */
export function PersonAvatar({ name, image, className }: { name: string; image: string | null; className?: string }) {
  return (
    <Avatar aria-hidden="true" className={className}>
      {image && <AvatarImage src={image} alt="" />}
      <AvatarFallback className="text-xs">{initialsOf(name)}</AvatarFallback>
    </Avatar>
  );
}

/** The people picked so far, each with a button that takes them out again. */
export function PickedPeople({
  people,
  onRemove,
  label,
  className,
}: {
  people: PersonSummary[];
  onRemove: (person: PersonSummary) => void;
  label: string;
  className?: string;
}) {
  if (people.length === 0) return null;
  return (
    <ul className={cn("flex flex-wrap gap-1.5", className)} aria-label={label}>
      {people.map((person) => (
        <li key={person.id} className="bg-secondary text-secondary-foreground flex items-center gap-1 rounded-full py-0.5 pr-0.5 pl-2.5 text-sm">
          <span className="max-w-40 truncate">{person.name}</span>
          <Button
            type="button"
            variant="ghost"
            size="icon"
            className="hover:bg-background/60 size-6 rounded-full"
            aria-label={`Remove ${person.name}`}
            onClick={() => onRemove(person)}
          >
            <XIcon className="size-3.5" aria-hidden="true" />
          </Button>
        </li>
      ))}
    </ul>
  );
}

/**
 * The server's message for a failed call. Input validation failures carry the Zod issues as
 * JSON in the message; those are turned back into their sentences.
 */
export function serverMessage(error: { message: string }): string {
  try {
    const parsed: unknown = JSON.parse(error.message);
    if (Array.isArray(parsed)) {
      const messages = parsed.flatMap((issue: unknown) =>
        typeof issue === "object" && issue !== null && "message" in issue && typeof issue.message === "string"
          ? [issue.message]
          : [],
      );
      if (messages.length > 0) return messages.join(" ");
    }
  } catch {
    // Not JSON: the message is already a sentence.
  }
  return error.message;
}

/** The "Search people" field of the dialogs that pick people. */
export function PeopleSearchField({ id, value, onChange }: { id: string; value: string; onChange: (value: string) => void }) {
  return (
    <div className="grid gap-2">
      <Label htmlFor={id}>Search people</Label>
      <Input
        id={id}
        type="search"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        autoComplete="off"
        maxLength={100}
        autoFocus
      />
    </div>
  );
}
