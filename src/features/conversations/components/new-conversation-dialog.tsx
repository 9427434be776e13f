"use client";

import { useId, useState } from "react";
import { useRouter } from "next/navigation";
import { zodResolver } from "@hookform/resolvers/zod";
import { keepPreviousData } from "@tanstack/react-query";
import { Loader2Icon, PlusIcon, UsersIcon } from "lucide-react";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { Button } from "~/components/ui/button";
import { Checkbox } from "~/components/ui/checkbox";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "~/components/ui/dialog";
import { Form, FormControl, FormField, FormItem, FormLabel, FormMessage } from "~/components/ui/form";
import { Input } from "~/components/ui/input";
import { Label } from "~/components/ui/label";
import { Switch } from "~/components/ui/switch";
import { api } from "~/trpc/react";
import { createGroupInput } from "../contracts";
import { PeopleSearchField, PersonAvatar, PickedPeople, serverMessage, useDebounced, type PersonSummary } from "./people";

/**
 * "New conversation": search people, then either pick one (opens the direct conversation
 * with them, the existing one if there is one) or, as a group, several plus a name.
 * Afterwards it navigates to the conversation, or, given `onCreated`, hands its id over
 * instead (the side panel opens it in place).
 */
export function NewConversationDialog({ onCreated }: { onCreated?: (conversationId: string) => void } = {}) {
  const router = useRouter();
  const utils = api.useUtils();
  const searchId = useId();
  const groupModeId = useId();
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState("");
  const [groupMode, setGroupMode] = useState(false);
  const [picked, setPicked] = useState<PersonSummary[]>([]);
  const search = useDebounced(query.trim()).slice(0, 100);
  const people = api.users.search.useQuery(
    { query: search },
    { enabled: open && search.length > 0, placeholderData: keepPreviousData },
  );

  const form = useForm({
    resolver: zodResolver(createGroupInput),
    defaultValues: { name: "", participantIds: [] as string[] },
  });

  function reset() {
    setQuery("");
    setGroupMode(false);
    setPicked([]);
    form.reset();
  }

  function done(conversationId: string) {
    void utils.conversations.invalidate();
    setOpen(false);
    reset();
    if (onCreated) onCreated(conversationId);
    else router.push(`/messages/${conversationId}`);
  }

  const createDirect = api.conversations.createDirect.useMutation({
    onSuccess: (conversation) => done(conversation.id),
    onError: (error) => void toast.error(serverMessage(error)),
  });
  const createGroup = api.conversations.createGroup.useMutation({
    onSuccess: (conversation) => done(conversation.id),
    onError: (error) => void toast.error(serverMessage(error)),
  });
  const busy = createDirect.isPending || createGroup.isPending;

  function updatePicked(next: PersonSummary[]) {
    setPicked(next);
    form.setValue(
      "participantIds",
      next.map((person) => person.id),
      // Once the list has been found wanting, picking someone clears the message at once.
      { shouldValidate: form.getFieldState("participantIds").invalid },
    );
  }

  function togglePicked(person: PersonSummary, pick: boolean) {
    const has = picked.some((p) => p.id === person.id);
    if (pick && !has) updatePicked([...picked, person]);
    else if (!pick && has) updatePicked(picked.filter((p) => p.id !== person.id));
  }

  function setMode(group: boolean) {
    setGroupMode(group);
    if (!group) {
      updatePicked([]);
      form.clearErrors();
    }
  }

  const onSubmit = form.handleSubmit((values) => createGroup.mutate(values));

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) reset();
      }}
    >
      <DialogTrigger asChild>
        <Button size="sm">
          <PlusIcon aria-hidden="true" />
          New conversation
        </Button>
      </DialogTrigger>
      <DialogContent className="flex max-h-[min(40rem,calc(100svh-2rem))] flex-col">
        <DialogHeader>
          <DialogTitle>New conversation</DialogTitle>
          <DialogDescription>
            {groupMode
              ? "Pick the people for the group and give it a name."
              : "Find someone by name or email. Tick several people to start a group."}
          </DialogDescription>
        </DialogHeader>

        <div className="flex items-center gap-2">
          <Switch id={groupModeId} checked={groupMode} onCheckedChange={setMode} />
          <Label htmlFor={groupModeId}>Group conversation</Label>
        </div>

        <PeopleSearchField id={searchId} value={query} onChange={setQuery} />

        {groupMode && <PickedPeople people={picked} onRemove={(person) => togglePicked(person, false)} label="Picked people" />}

        <ul
          className="-mx-2 grid min-h-0 flex-1 content-start gap-0.5 overflow-y-auto px-2"
          aria-label="People"
          aria-busy={people.isFetching}
        >
          {search.length > 0 &&
            people.data?.map((person) => {
              const isPicked = picked.some((p) => p.id === person.id);
              return (
                <li key={person.id} className="flex items-center gap-2">
                  <Checkbox
                    checked={isPicked}
                    aria-label={`Add ${person.name} to the group`}
                    disabled={busy}
                    onCheckedChange={(checked) => {
                      if (checked === true) setGroupMode(true);
                      togglePicked(person, checked === true);
                    }}
                  />
                  <Button
                    type="button"
                    variant="ghost"
                    className="h-auto min-w-0 flex-1 justify-start gap-3 px-2 py-2 text-left"
                    disabled={busy}
                    aria-pressed={groupMode ? isPicked : undefined}
                    onClick={() => {
                      if (groupMode) togglePicked(person, !isPicked);
                      else createDirect.mutate({ recipientId: person.id });
                    }}
                  >
                    <PersonAvatar name={person.name} image={person.image} />
                    <span className="grid min-w-0">
                      <span className="truncate font-medium">{person.name}</span>
                      <span className="text-muted-foreground truncate text-xs">{person.email}</span>
                    </span>
                  </Button>
                </li>
              );
            })}
          {search.length > 0 && people.data?.length === 0 && (
            <li className="text-muted-foreground px-2 py-2 text-sm">Nobody matches “{search}”.</li>
          )}
          {people.isError && <li className="text-destructive px-2 py-2 text-sm">{serverMessage(people.error)}</li>}
        </ul>

        {groupMode && (
          <Form {...form}>
            <form onSubmit={onSubmit} noValidate aria-busy={createGroup.isPending} className="grid gap-4 border-t pt-4">
              <FormField
                control={form.control}
                name="participantIds"
                render={() => (
                  <FormItem className="gap-0">
                    <FormMessage />
                  </FormItem>
                )}
              />
              <FormField
                control={form.control}
                name="name"
                render={({ field }) => (
                  <FormItem>
                    <FormLabel>Group name</FormLabel>
                    <FormControl>
                      <Input autoComplete="off" maxLength={120} {...field} />
                    </FormControl>
                    <FormMessage />
                  </FormItem>
                )}
              />
              <DialogFooter>
                <Button type="submit" disabled={busy}>
                  {createGroup.isPending ? (
                    <Loader2Icon className="animate-spin" aria-hidden="true" />
                  ) : (
                    <UsersIcon aria-hidden="true" />
                  )}
                  Create group
                </Button>
              </DialogFooter>
            </form>
          </Form>
        )}
      </DialogContent>
    </Dialog>
  );
}
