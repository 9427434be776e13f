"use client";

import { useState, type KeyboardEvent } from "react";
import { CopyIcon, MoreHorizontalIcon, PencilIcon, SmilePlusIcon, Trash2Icon } from "lucide-react";
import { toast } from "sonner";
import { Button } from "~/components/ui/button";
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
  DropdownMenuTrigger,
} from "~/components/ui/dropdown-menu";
import { Textarea } from "~/components/ui/textarea";
import { LATEST_PAGE } from "~/features/events/use-messaging-events";
import { cn } from "~/lib/utils";
import { api } from "~/trpc/react";
import type { Message } from "../contracts";

export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const fullTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

function useMessageActions(message: Message) {
  const utils = api.useUtils();
  const replace = (next: Message) =>
    utils.messages.list.setData({ conversationId: message.conversationId, limit: LATEST_PAGE }, (page) =>
      page ? { ...page, items: page.items.map((item) => (item.id === next.id ? next : item)) } : page,
    );
  const onError = (error: { message: string }) => toast.error(error.message);
  return {
    react: api.messages.react.useMutation({ onSuccess: replace, onError }),
    edit: api.messages.edit.useMutation({ onSuccess: replace, onError }),
    remove: api.messages.delete.useMutation({ onError }),
  };
}

export function MessageBubble({
  message,
  own,
  showSender,
  viewerId,
}: {
  message: Message;
  own: boolean;
  showSender: boolean;
  viewerId: string;
}) {
  const actions = useMessageActions(message);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content ?? "");
  const [confirmDelete, setConfirmDelete] = useState(false);

  if (message.type === "SYSTEM") {
    return <li className="text-muted-foreground py-1 text-center text-xs">{message.content}</li>;
  }
  const deleted = message.deletedAt !== null;

  const saveEdit = () => {
    const content = draft.trim();
    if (!content) return;
    actions.edit.mutate({ messageId: message.id, content }, { onSuccess: () => setEditing(false) });
  };
  const onEditKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      saveEdit();
    } else if (event.key === "Escape") {
      setEditing(false);
    }
  };

  return (
    <li className={cn("group flex flex-col gap-0.5", own ? "items-end" : "items-start")}>
      {showSender && !own && <span className="text-muted-foreground px-1 text-xs">{message.senderName}</span>}
      <div className={cn("flex max-w-[80%] items-center gap-1", own && "flex-row-reverse")}>
        {editing ? (
          <div className="grid w-80 max-w-full gap-2">
            <label htmlFor={`edit-${message.id}`} className="sr-only">
              Edit message
            </label>
            <Textarea id={`edit-${message.id}`} value={draft} onChange={(e) => setDraft(e.target.value)} onKeyDown={onEditKey} autoFocus />
            <div className="flex justify-end gap-2">
              <Button size="sm" variant="ghost" onClick={() => setEditing(false)}>
                Cancel
              </Button>
              <Button size="sm" onClick={saveEdit} disabled={actions.edit.isPending}>
                Save
              </Button>
            </div>
          </div>
        ) : (
          <div
            className={cn(
              "rounded-2xl px-3 py-2 text-sm break-words whitespace-pre-wrap",
              own ? "bg-primary text-primary-foreground" : "bg-muted",
              deleted && "italic opacity-70",
            )}
          >
            {deleted ? "This message was deleted" : message.content}
          </div>
        )}
        {!deleted && !editing && (
          <div className="flex opacity-0 transition-opacity group-focus-within:opacity-100 group-hover:opacity-100">
            <DropdownMenu>
              <DropdownMenuTrigger asChild>
                <Button size="icon" variant="ghost" className="size-7" aria-label="React">
                  <SmilePlusIcon aria-hidden="true" />
                </Button>
              </DropdownMenuTrigger>
              <DropdownMenuContent className="flex min-w-0 gap-1 p-1">
                {QUICK_REACTIONS.map((emoji) => (
                  <DropdownMenuItem
                    key={emoji}
                    aria-label={`React with ${emoji}`}
                    className="px-2 text-lg"
                    onSelect={() => actions.react.mutate({ messageId: message.id, emoji })}
                  >
                    {emoji}
                  </DropdownMenuItem>
                ))}
              </DropdownMenuContent>
            </DropdownMenu>
            <DropdownMenu>
              <DropdownMenuTrigger asChild>
                <Button size="icon" variant="ghost" className="size-7" aria-label="More actions">
                  <MoreHorizontalIcon aria-hidden="true" />
                </Button>
              </DropdownMenuTrigger>
              <DropdownMenuContent align={own ? "end" : "start"}>
                <DropdownMenuItem
                  onSelect={() => {
                    void navigator.clipboard?.writeText(message.content ?? "").then(() => toast.success("Copied"));
                  }}
                >
                  <CopyIcon aria-hidden="true" /> Copy text
                </DropdownMenuItem>
                {own && (
                  <DropdownMenuItem
                    onSelect={() => {
                      setDraft(message.content ?? "");
                      setEditing(true);
                    }}
                  >
                    <PencilIcon aria-hidden="true" /> Edit
                  </DropdownMenuItem>
                )}
                {own && (
                  <DropdownMenuItem variant="destructive" onSelect={() => setConfirmDelete(true)}>
                    <Trash2Icon aria-hidden="true" /> Delete
                  </DropdownMenuItem>
                )}
              </DropdownMenuContent>
            </DropdownMenu>
          </div>
        )}
      </div>
      {message.reactions.length > 0 && (
        <ul className="flex flex-wrap gap-1 px-1" aria-label="Reactions">
          {message.reactions.map((reaction) => {
            const mine = reaction.userIds.includes(viewerId);
            return (
              <li key={reaction.emoji}>
                <button
                  type="button"
                  aria-pressed={mine}
                  aria-label={`${reaction.emoji} ${reaction.count}`}
                  onClick={() => actions.react.mutate({ messageId: message.id, emoji: reaction.emoji })}
                  className={cn(
                    "rounded-full border px-2 py-0.5 text-xs",
                    mine ? "border-primary bg-primary/10" : "bg-background hover:bg-accent",
                  )}
                >
                  {reaction.emoji} {reaction.count}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <time
        className="text-muted-foreground px-1 text-[11px]"
        dateTime={message.createdAt.toISOString()}
        title={fullTimeFormat.format(message.createdAt)}
      >
        {timeFormat.format(message.createdAt)}
        {message.editedAt && !deleted ? " · edited" : ""}
      </time>
      <Dialog open={confirmDelete} onOpenChange={setConfirmDelete}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>Delete this message?</DialogTitle>
            <DialogDescription>Everyone in the conversation will see that it was deleted.</DialogDescription>
          </DialogHeader>
          <DialogFooter>
            <DialogClose asChild>
              <Button variant="outline">Cancel</Button>
            </DialogClose>
            <Button
              variant="destructive"
              onClick={() => actions.remove.mutate({ messageId: message.id }, { onSuccess: () => setConfirmDelete(false) })}
            >
              Delete
            </Button>
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </li>
  );
}
