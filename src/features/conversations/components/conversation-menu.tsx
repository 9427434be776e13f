"use client";

import { useId, useRef, useState } from "react";
import { keepPreviousData } from "@tanstack/react-query";
import {
  BellIcon,
  BellOffIcon,
  EllipsisVerticalIcon,
  Loader2Icon,
  LogOutIcon,
  UserMinusIcon,
  UserPlusIcon,
  UsersIcon,
} from "lucide-react";
import { toast } from "sonner";
import {
  AlertDialog,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
} from "~/components/ui/alert-dialog";
import { Badge } from "~/components/ui/badge";
import { Button } from "~/components/ui/button";
import { Checkbox } from "~/components/ui/checkbox";
import {
  Dialog,
  DialogClose,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
} from "~/components/ui/dialog";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "~/components/ui/dropdown-menu";
import { Label } from "~/components/ui/label";
import { api } from "~/trpc/react";
import type { Conversation } from "../contracts";
import { conversationTitle } from "./conversation-title";
import { PeopleSearchField, PersonAvatar, PickedPeople, serverMessage, useDebounced, type PersonSummary } from "./people";

type OpenDialog = "add" | "members" | "leave" | null;

/**
 * "Conversation options" for a conversation's header: mute or unmute; for groups also
 * add people, see (and, as the creator, remove) members, and leave. `onLeft` runs once
 * the viewer has left, so the page can move somewhere they still belong.
 */
export function ConversationMenu({
  conversation,
  viewerId,
  onLeft,
}: {
  conversation: Conversation;
  viewerId: string;
  onLeft: () => void;
}) {
  const utils = api.useUtils();
  const trigger = useRef<HTMLButtonElement>(null);
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const isGroup = conversation.type === "GROUP";
  const title = conversationTitle(conversation, viewerId);

  const setMuted = api.conversations.setMuted.useMutation({
    onSuccess: (_, { muted }) => {
      void utils.conversations.invalidate();
      toast.success(muted ? `Notifications for ${title} are muted.` : `Notifications for ${title} are on.`);
    },
    onError: (error) => void toast.error(serverMessage(error)),
  });

  const dialogProps = (which: Exclude<OpenDialog, null>) => ({
    open: dialog === which,
    onOpenChange: (open: boolean) => setDialog(open ? which : null),
  });
  // The dialogs open from the menu: when one closes, focus goes back to the menu button.
  const returnFocus = (event: Event) => {
    event.preventDefault();
    trigger.current?.focus();
  };

  return (
    <>
      <DropdownMenu>
        <DropdownMenuTrigger asChild>
          <Button ref={trigger} variant="ghost" size="icon" aria-label="Conversation options">
            <EllipsisVerticalIcon aria-hidden="true" />
          </Button>
        </DropdownMenuTrigger>
        <DropdownMenuContent
          align="end"
          className="w-56"
          onCloseAutoFocus={(event) => {
            // A dialog opened from the menu keeps the focus.
            if (dialog !== null) event.preventDefault();
          }}
        >
          <DropdownMenuItem
            disabled={setMuted.isPending}
            onSelect={() => setMuted.mutate({ conversationId: conversation.id, muted: !conversation.muted })}
          >
            {conversation.muted ? <BellIcon aria-hidden="true" /> : <BellOffIcon aria-hidden="true" />}
            {conversation.muted ? "Unmute notifications" : "Mute notifications"}
          </DropdownMenuItem>
          {isGroup && (
            <>
              <DropdownMenuItem onSelect={() => setDialog("add")}>
                <UserPlusIcon aria-hidden="true" />
                Add people
              </DropdownMenuItem>
              <DropdownMenuItem onSelect={() => setDialog("members")}>
                <UsersIcon aria-hidden="true" />
                Members
              </DropdownMenuItem>
              <DropdownMenuSeparator />
              <DropdownMenuItem variant="destructive" onSelect={() => setDialog("leave")}>
                <LogOutIcon aria-hidden="true" />
                Leave conversation
              </DropdownMenuItem>
            </>
          )}
        </DropdownMenuContent>
      </DropdownMenu>

      {isGroup && (
        <>
          <Dialog {...dialogProps("add")}>
            <DialogContent className="flex max-h-[min(40rem,calc(100svh-2rem))] flex-col" onCloseAutoFocus={returnFocus}>
              <AddPeopleForm conversation={conversation} title={title} onDone={() => setDialog(null)} />
            </DialogContent>
          </Dialog>
          <Dialog {...dialogProps("members")}>
            <DialogContent className="flex max-h-[min(40rem,calc(100svh-2rem))] flex-col" onCloseAutoFocus={returnFocus}>
              <MembersList conversation={conversation} viewerId={viewerId} title={title} />
            </DialogContent>
          </Dialog>
          <AlertDialog {...dialogProps("leave")}>
            <AlertDialogContent onCloseAutoFocus={returnFocus}>
              <LeaveConfirmation
                conversation={conversation}
                viewerId={viewerId}
                title={title}
                onLeft={() => {
                  setDialog(null);
                  onLeft();
                }}
              />
            </AlertDialogContent>
          </AlertDialog>
        </>
      )}
    </>
  );
}

/** Mounted only while its dialog is open, so every opening starts afresh. */
function AddPeopleForm({ conversation, title, onDone }: { conversation: Conversation; title: string; onDone: () => void }) {
  const utils = api.useUtils();
  const searchId = useId();
  const [query, setQuery] = useState("");
  const [picked, setPicked] = useState<PersonSummary[]>([]);
  const search = useDebounced(query.trim()).slice(0, 100);
  const people = api.users.search.useQuery({ query: search }, { enabled: search.length > 0, placeholderData: keepPreviousData });
  const memberIds = new Set(conversation.participants.map((p) => p.id));
  const candidates = (people.data ?? []).filter((person) => !memberIds.has(person.id));

  const addParticipants = api.conversations.addParticipants.useMutation({
    onSuccess: () => {
      void utils.conversations.invalidate();
      toast.success(
        picked.length === 1 ? `${picked[0]!.name} was added to ${title}.` : `${picked.length} people were added to ${title}.`,
      );
      onDone();
    },
    onError: (error) => void toast.error(serverMessage(error)),
  });

  function toggle(person: PersonSummary, pick: boolean) {
    setPicked((current) =>
      pick ? (current.some((p) => p.id === person.id) ? current : [...current, person]) : current.filter((p) => p.id !== person.id),
    );
  }

  return (
    <form
      className="flex min-h-0 flex-col gap-4"
      onSubmit={(event) => {
        event.preventDefault();
        if (picked.length === 0) return;
        addParticipants.mutate({ conversationId: conversation.id, userIds: picked.map((p) => p.id) });
      }}
    >
      <DialogHeader>
        <DialogTitle>Add people</DialogTitle>
        <DialogDescription>Find people by name or email and tick the ones to add to {title}.</DialogDescription>
      </DialogHeader>
      <PeopleSearchField id={searchId} value={query} onChange={setQuery} />
      <PickedPeople people={picked} onRemove={(person) => toggle(person, false)} label="People to add" />
      <ul className="-mx-2 grid min-h-0 flex-1 content-start gap-0.5 overflow-y-auto px-2" aria-label="People" aria-busy={people.isFetching}>
        {search.length > 0 &&
          candidates.map((person) => {
            const checkboxId = `${searchId}-${person.id}`;
            return (
              <li key={person.id} className="hover:bg-accent flex items-center gap-3 rounded-md px-2 py-1.5">
                <Checkbox
                  id={checkboxId}
                  checked={picked.some((p) => p.id === person.id)}
                  onCheckedChange={(checked) => toggle(person, checked === true)}
                />
                <Label htmlFor={checkboxId} className="min-w-0 flex-1 cursor-pointer gap-3 font-normal">
                  <PersonAvatar name={person.name} image={person.image} />
                  <span className="grid min-w-0 gap-0.5">
                    <span className="truncate font-medium">{person.name}</span>
                    <span className="text-muted-foreground truncate text-xs">{person.email}</span>
                  </span>
                </Label>
              </li>
            );
          })}
        {search.length > 0 && people.data && candidates.length === 0 && (
          <li className="text-muted-foreground px-2 py-2 text-sm">
            {people.data.length === 0 ? `Nobody matches “${search}”.` : `Everyone matching “${search}” is already in ${title}.`}
          </li>
        )}
        {people.isError && <li className="text-destructive px-2 py-2 text-sm">{serverMessage(people.error)}</li>}
      </ul>
      <DialogFooter>
        <DialogClose asChild>
          <Button type="button" variant="outline">
            Cancel
          </Button>
        </DialogClose>
        <Button type="submit" disabled={picked.length === 0 || addParticipants.isPending}>
          {addParticipants.isPending && <Loader2Icon className="animate-spin" aria-hidden="true" />}
          {picked.length > 1 ? `Add ${picked.length} people` : "Add"}
        </Button>
      </DialogFooter>
    </form>
  );
}

function MembersList({ conversation, viewerId, title }: { conversation: Conversation; viewerId: string; title: string }) {
  const utils = api.useUtils();
  const viewerIsCreator = conversation.createdById === viewerId;
  const remove = api.conversations.removeParticipant.useMutation({
    onSuccess: (_, { userId }) => {
      void utils.conversations.invalidate();
      const name = conversation.participants.find((p) => p.id === userId)?.name ?? "They";
      toast.success(`${name} was removed from ${title}.`);
    },
    onError: (error) => void toast.error(serverMessage(error)),
  });
  const members = [...conversation.participants].sort((a, b) =>
    a.id === viewerId ? -1 : b.id === viewerId ? 1 : a.name.localeCompare(b.name),
  );

  return (
    <>
      <DialogHeader>
        <DialogTitle>Members</DialogTitle>
        <DialogDescription>
          {members.length === 1 ? "1 person is" : `${members.length} people are`} in {title}.
        </DialogDescription>
      </DialogHeader>
      <ul className="-mx-2 grid min-h-0 content-start gap-0.5 overflow-y-auto px-2" aria-label="Members">
        {members.map((member) => {
          const removing = remove.isPending && remove.variables?.userId === member.id;
          return (
            <li key={member.id} className="flex items-center gap-3 rounded-md px-2 py-1.5">
              <PersonAvatar name={member.name} image={member.image} />
              <span className="min-w-0 flex-1 truncate text-sm font-medium">
                {member.name}
                {member.id === viewerId && <span className="text-muted-foreground font-normal"> (you)</span>}
              </span>
              {member.id === conversation.createdById && <Badge variant="secondary">Creator</Badge>}
              {viewerIsCreator && member.id !== viewerId && (
                <Button
                  type="button"
                  variant="ghost"
                  size="icon-sm"
                  aria-label={`Remove ${member.name} from the group`}
                  disabled={remove.isPending}
                  onClick={() => remove.mutate({ conversationId: conversation.id, userId: member.id })}
                >
                  {removing ? <Loader2Icon className="animate-spin" aria-hidden="true" /> : <UserMinusIcon aria-hidden="true" />}
                </Button>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}

function LeaveConfirmation({
  conversation,
  viewerId,
  title,
  onLeft,
}: {
  conversation: Conversation;
  viewerId: string;
  title: string;
  onLeft: () => void;
}) {
  const utils = api.useUtils();
  const leave = api.conversations.removeParticipant.useMutation({
    onSuccess: () => {
      toast.success(`You left ${title}.`);
      // Move away first: the conversation itself is no longer the viewer's to load.
      onLeft();
      void utils.conversations.list.invalidate();
      void utils.conversations.search.invalidate();
      void utils.conversations.unreadCount.invalidate();
    },
    onError: (error) => void toast.error(serverMessage(error)),
  });

  return (
    <>
      <AlertDialogHeader>
        <AlertDialogTitle>Leave {title}?</AlertDialogTitle>
        <AlertDialogDescription>
          You will stop receiving its messages. To come back, someone in the group has to add you again.
        </AlertDialogDescription>
      </AlertDialogHeader>
      <AlertDialogFooter>
        <AlertDialogCancel disabled={leave.isPending}>Cancel</AlertDialogCancel>
        <Button
          variant="destructive"
          disabled={leave.isPending}
          onClick={() => leave.mutate({ conversationId: conversation.id, userId: viewerId })}
        >
          {leave.isPending && <Loader2Icon className="animate-spin" aria-hidden="true" />}
          Leave
        </Button>
      </AlertDialogFooter>
    </>
  );
}
