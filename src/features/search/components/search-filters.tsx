"use client";

import { useId, useMemo } from "react";
import { Button } from "~/components/ui/button";
import { Checkbox } from "~/components/ui/checkbox";
import { Input } from "~/components/ui/input";
import { Label } from "~/components/ui/label";
import { NativeSelect, NativeSelectOption } from "~/components/ui/native-select";
import type { Participant } from "~/features/conversations/contracts";
import { api } from "~/trpc/react";
import { activeFilterCount, type MessageSearchState } from "../search-query";

/** The people one can filter by: everyone in the viewer's conversations (the viewer is "You"). */
function usePeople(viewerId: string): Participant[] {
  const conversations = api.conversations.list.useQuery({ limit: 50 });
  return useMemo(() => {
    const everyone = (conversations.data?.items ?? []).flatMap((conversation) => conversation.participants);
    const byId = new Map(everyone.filter((person) => person.id !== viewerId).map((person) => [person.id, person]));
    return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
  }, [conversations.data, viewerId]);
}

/** A compact row of filters under the search field. */
export function SearchFilters({
  id,
  viewerId,
  state,
  onChange,
  scope,
}: {
  id: string;
  viewerId: string;
  state: MessageSearchState;
  onChange: (patch: Partial<MessageSearchState>) => void;
  /** The conversation the search was opened from, when there is one. */
  scope?: { title: string };
}) {
  const fieldId = useId();
  const people = usePeople(viewerId);
  const active = activeFilterCount(state, Boolean(scope)) > 0;
  return (
    <fieldset id={id} className="grid grid-cols-2 gap-x-2 gap-y-2 text-sm">
      <legend className="sr-only">Search filters</legend>
      {scope && (
        <div className="col-span-2 flex items-center gap-2">
          <Checkbox
            id={`${fieldId}-scope`}
            checked={state.inConversation}
            onCheckedChange={(checked) => onChange({ inConversation: checked === true })}
          />
          <Label htmlFor={`${fieldId}-scope`} className="min-w-0 truncate font-normal">
            Only in {scope.title}
          </Label>
        </div>
      )}
      <div className="grid gap-1">
        <Label htmlFor={`${fieldId}-from`} className="text-xs">
          Sent by
        </Label>
        <NativeSelect id={`${fieldId}-from`} className="h-8" value={state.fromUserId} onChange={(event) => onChange({ fromUserId: event.target.value })}>
          <NativeSelectOption value="">Anyone</NativeSelectOption>
          <NativeSelectOption value={viewerId}>You</NativeSelectOption>
          {people.map((person) => (
            <NativeSelectOption key={person.id} value={person.id}>
              {person.name}
            </NativeSelectOption>
          ))}
        </NativeSelect>
      </div>
      <div className="grid gap-1">
        <Label htmlFor={`${fieldId}-sort`} className="text-xs">
          Sort
        </Label>
        <NativeSelect
          id={`${fieldId}-sort`}
          className="h-8"
          value={state.sort}
          onChange={(event) => onChange({ sort: event.target.value === "newest" ? "newest" : "relevance" })}
        >
          <NativeSelectOption value="relevance">Best match</NativeSelectOption>
          <NativeSelectOption value="newest">Newest first</NativeSelectOption>
        </NativeSelect>
      </div>
      <div className="grid gap-1">
        <Label htmlFor={`${fieldId}-since`} className="text-xs">
          Since
        </Label>
        <Input id={`${fieldId}-since`} type="date" className="h-8" value={state.sinceDay} max={state.untilDay || undefined} onChange={(event) => onChange({ sinceDay: event.target.value })} />
      </div>
      <div className="grid gap-1">
        <Label htmlFor={`${fieldId}-until`} className="text-xs">
          Until
        </Label>
        <Input id={`${fieldId}-until`} type="date" className="h-8" value={state.untilDay} min={state.sinceDay || undefined} onChange={(event) => onChange({ untilDay: event.target.value })} />
      </div>
      {active && (
        <Button
          type="button"
          variant="link"
          size="sm"
          className="col-span-2 h-auto justify-self-start p-0"
          onClick={() => onChange({ inConversation: false, fromUserId: "", sinceDay: "", untilDay: "" })}
        >
          Clear filters
        </Button>
      )}
    </fieldset>
  );
}
