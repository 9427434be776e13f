"use client";

import { useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from "react";
import {
  AlertCircleIcon,
  CheckCheckIcon,
  CheckIcon,
  ClockIcon,
  CopyIcon,
  MoreHorizontalIcon,
  PencilIcon,
  SmilePlusIcon,
  Trash2Icon,
} from "lucide-react";
import { toast } from "sonner";
import { Avatar, AvatarFallback } from "~/components/ui/avatar";
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
  DropdownMenuGroup,
  DropdownMenuItem,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "~/components/ui/dropdown-menu";
import { Textarea } from "~/components/ui/textarea";
import { MessageAttachments } from "~/features/attachments/components/message-attachments";
import { attachmentsOf, type Attachment } from "~/features/attachments/contracts";
import { initialsOf } from "~/features/conversations/components/conversation-title";
import { cn } from "~/lib/utils";
import { api } from "~/trpc/react";
import type { Message } from "../contracts";
import { linkify } from "../linkify";
import { STATUS_LABELS, type OwnMessageStatus } from "../message-status";
import { replaceInTimeline } from "../timeline-cache";

export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢"];
/** How long a touch must rest on a message to open its actions, and how far it may wander meanwhile. */
const LONG_PRESS_MS = 500;
const LONG_PRESS_SLOP_PX = 10;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const fullTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

function useMessageActions() {
  const utils = api.useUtils();
  const onError = (error: { message: string }) => toast.error(error.message);
  const onSuccess = (message: Message) => replaceInTimeline(utils, message);
  return {
    react: api.messages.react.useMutation({ onSuccess, onError }),
    edit: api.messages.edit.useMutation({ onSuccess, onError }),
    remove: api.messages.delete.useMutation({ onError }),
  };
}

/** Plain text with its web links as safe anchors; never HTML. */
export function MessageText({ text }: { text: string }) {
  return (
    <>
      {linkify(text).map((segment, index) =>
        segment.kind === "link" ? (
          <a
            key={index}
            href={segment.href}
            target="_blank"
            rel="noopener noreferrer nofollow"
            className="underline underline-offset-2 break-all"
          >
            {segment.text}
          </a>
        ) : (
          <span key={index}>{segment.text}</span>
        ),
      )}
    </>
  );
}

export function StatusTick({ status }: { status: OwnMessageStatus }) {
  const Icon =
    status === "sending" ? ClockIcon : status === "failed" ? AlertCircleIcon : status === "sent" ? CheckIcon : CheckCheckIcon;
  return (
    <span role="img" aria-label={STATUS_LABELS[status]} title={STATUS_LABELS[status]} className="inline-flex items-center">
      <Icon
        aria-hidden="true"
        className={cn("size-3.5", status === "read" && "text-sky-500", status === "failed" && "text-destructive")}
      />
    </span>
  );
}

export interface MessageBubbleProps {
  message: Message;
  own: boolean;
  viewerId: string;
  /** First of a run by one sender: show who and leave space above. */
  startsGroup: boolean;
  isGroup: boolean;
  /** Own messages: where the message has got. */
  status?: OwnMessageStatus;
  /** Under the newest own message: "Read", "Delivered" or "Seen by …". */
  statusLine?: string;
  /** The settings' limit, which an edit must respect like a new message. */
  maxLength: number;
  /**
   * The edit in progress for this message (its text), kept by the view so that it
   * survives the row being scrolled out of the virtualized list; undefined when not editing.
   */
  editDraft: string | undefined;
  /** Start (with the text), change, or end (null) the edit. */
  onEditDraft: (draft: string | null) => void;
}

export function MessageBubble({
  message,
  own,
  viewerId,
  startsGroup,
  isGroup,
  status,
  statusLine,
  maxLength,
  editDraft,
  onEditDraft,
}: MessageBubbleProps) {
  const actions = useMessageActions();
  const editing = editDraft !== undefined;
  const draft = editDraft ?? "";
  const setEditing = (on: boolean) => onEditDraft(on ? (message.content ?? "") : null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [moreOpen, setMoreOpen] = useState(false);
  const press = useRef<{ timer: ReturnType<typeof setTimeout>; x: number; y: number; fired: boolean } | undefined>(undefined);
  useEffect(() => () => clearTimeout(press.current?.timer), []);

  if (message.type === "SYSTEM") {
    return (
      <div className="text-muted-foreground py-2 text-center text-xs">
        <span className="bg-muted rounded-full px-3 py-1">{message.content}</span>
      </div>
    );
  }
  const deleted = message.deletedAt !== null;
  const showSender = isGroup && !own && startsGroup;
  // A deleted message keeps no files (its metadata is gone too).
  const attachments = deleted ? [] : attachmentsOf(message);
  // A message of files only has no text bubble.
  const hasText = deleted || Boolean(message.content);

  const saveEdit = () => {
    const content = draft.trim();
    if (!content || content.length > maxLength) return;
    if (content === message.content) return setEditing(false);
    actions.edit.mutate({ messageId: message.id, content }, { onSuccess: () => setEditing(false) });
  };
  const onEditKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      saveEdit();
    } else if (event.key === "Escape") {
      event.stopPropagation();
      setEditing(false);
    }
  };
  // Touch screens have no hover: a long press opens the message's actions.
  const onPointerDown = (event: PointerEvent) => {
    if (event.pointerType !== "touch" || deleted || editing) return;
    const started = { x: event.clientX, y: event.clientY, fired: false, timer: setTimeout(() => undefined, 0) };
    started.timer = setTimeout(() => {
      started.fired = true;
      setMoreOpen(true);
    }, LONG_PRESS_MS);
    press.current = started;
  };
  const cancelPress = () => {
    if (press.current && !press.current.fired) {
      clearTimeout(press.current.timer);
      press.current = undefined;
    }
  };
  const onPointerMove = (event: PointerEvent) => {
    const started = press.current;
    if (started && Math.hypot(event.clientX - started.x, event.clientY - started.y) > LONG_PRESS_SLOP_PX) cancelPress();
  };
  const react = (emoji: string) => actions.react.mutate({ messageId: message.id, emoji });

  return (
    <div className={cn("group flex gap-2 px-4", startsGroup ? "pt-3" : "pt-0.5", own && "flex-row-reverse")}>
      {isGroup && !own && (
        <div className="w-8 shrink-0">
          {startsGroup && (
            <Avatar aria-hidden="true" className="size-8">
              <AvatarFallback className="text-[10px]">{initialsOf(message.senderName ?? "?")}</AvatarFallback>
            </Avatar>
          )}
        </div>
      )}
      <div className={cn("flex min-w-0 flex-1 flex-col gap-0.5", own ? "items-end" : "items-start")}>
        {showSender && <span className="text-muted-foreground px-1 text-xs font-medium">{message.senderName}</span>}
        <div className={cn("flex max-w-[85%] items-center gap-1 sm:max-w-[75%]", own && "flex-row-reverse")}>
          <div
            onPointerDown={onPointerDown}
            onPointerUp={cancelPress}
            onPointerMove={onPointerMove}
            onPointerCancel={cancelPress}
            onContextMenu={(event) => {
              // Our long press replaces the browser's menu for this one touch only.
              if (press.current?.fired) {
                event.preventDefault();
                press.current = undefined;
              }
            }}
            className={cn("flex min-w-0 flex-col gap-1", own ? "items-end" : "items-start")}
          >
            {editing ? (
              <div className="grid w-80 max-w-full gap-2">
                <label htmlFor={`edit-${message.id}`} className="sr-only">
                  Edit message
                </label>
                <Textarea id={`edit-${message.id}`} value={draft} onChange={(e) => onEditDraft(e.target.value)} onKeyDown={onEditKey} autoFocus />
                <div className="flex items-center justify-end gap-2">
                  {draft.trim().length > maxLength * 0.9 && (
                    <span className={cn("mr-auto text-xs", draft.trim().length > maxLength ? "text-destructive" : "text-muted-foreground")} aria-live="polite">
                      {draft.trim().length} / {maxLength}
                    </span>
                  )}
                  <Button size="sm" variant="ghost" onClick={() => setEditing(false)}>
                    Cancel
                  </Button>
                  <Button size="sm" onClick={saveEdit} disabled={actions.edit.isPending || !draft.trim() || draft.trim().length > maxLength}>
                    Save
                  </Button>
                </div>
              </div>
            ) : (
              hasText && (
                <div
                  className={cn(
                    "max-w-full min-w-0 rounded-2xl px-3 py-2 text-sm break-words whitespace-pre-wrap select-text",
                    own ? "bg-primary text-primary-foreground" : "bg-muted",
                    deleted && "italic opacity-70",
                  )}
                >
                  {deleted ? "This message was deleted" : <MessageText text={message.content ?? ""} />}
                </div>
              )
            )}
            {attachments.length > 0 && <MessageAttachments attachments={attachments} own={own} />}
          </div>
          {!deleted && !editing && (
            <div
              className={cn(
                "flex shrink-0 opacity-0 transition-opacity group-focus-within:opacity-100 group-hover:opacity-100",
                moreOpen && "opacity-100",
              )}
            >
              <DropdownMenu>
                <DropdownMenuTrigger asChild>
                  <Button size="icon" variant="ghost" className="size-7" aria-label="React">
                    <SmilePlusIcon aria-hidden="true" />
                  </Button>
                </DropdownMenuTrigger>
                <DropdownMenuContent className="flex min-w-0 gap-1 p-1">
                  {QUICK_REACTIONS.map((emoji) => (
                    <DropdownMenuItem key={emoji} aria-label={`React with ${emoji}`} className="px-2 text-lg" onSelect={() => react(emoji)}>
                      {emoji}
                    </DropdownMenuItem>
                  ))}
                </DropdownMenuContent>
              </DropdownMenu>
              <DropdownMenu open={moreOpen} onOpenChange={setMoreOpen}>
                <DropdownMenuTrigger asChild>
                  <Button size="icon" variant="ghost" className="size-7" aria-label="More actions">
                    <MoreHorizontalIcon aria-hidden="true" />
                  </Button>
                </DropdownMenuTrigger>
                <DropdownMenuContent align={own ? "end" : "start"}>
                  <DropdownMenuGroup className="flex gap-0.5" aria-label="Quick reactions">
                    {QUICK_REACTIONS.map((emoji) => (
                      <DropdownMenuItem key={emoji} aria-label={`React with ${emoji}`} className="px-1.5 text-lg" onSelect={() => react(emoji)}>
                        {emoji}
                      </DropdownMenuItem>
                    ))}
                  </DropdownMenuGroup>
                  <DropdownMenuSeparator />
                  {message.content && (
                    <DropdownMenuItem
                      onSelect={() => {
                        void navigator.clipboard
                          ?.writeText(message.content ?? "")
                          .then(() => toast.success("Copied"), () => toast.error("The clipboard is not available here."));
                      }}
                    >
                      <CopyIcon aria-hidden="true" /> Copy text
                    </DropdownMenuItem>
                  )}
                  {own && (
                    <DropdownMenuItem
                      onSelect={() => {
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
                    onClick={() => react(reaction.emoji)}
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
        <span className="text-muted-foreground flex items-center gap-1 px-1 text-[11px]">
          <time dateTime={message.createdAt.toISOString()} title={fullTimeFormat.format(message.createdAt)}>
            {timeFormat.format(message.createdAt)}
          </time>
          {message.editedAt && !deleted && <span>· edited</span>}
          {own && status && !deleted && <StatusTick status={status} />}
        </span>
        {statusLine && <span className="text-muted-foreground px-1 text-[11px]">{statusLine}</span>}
      </div>
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
    </div>
  );
}

/** A message still in the outbox: shown at once, "sending" until the server has it. */
export function PendingBubble({
  content,
  attachments,
  failed,
  error,
  onRetry,
  onDiscard,
}: {
  content: string;
  /** The files it carries, already uploaded. */
  attachments: Attachment[];
  failed: boolean;
  error?: string;
  onRetry: () => void;
  onDiscard: () => void;
}) {
  return (
    <div className="flex flex-col items-end gap-0.5 px-4 pt-0.5">
      {content && (
        <div
          className={cn(
            "bg-primary text-primary-foreground max-w-[85%] rounded-2xl px-3 py-2 text-sm break-words whitespace-pre-wrap sm:max-w-[75%]",
            failed ? "ring-destructive opacity-80 ring-2" : "opacity-70",
          )}
        >
          <MessageText text={content} />
        </div>
      )}
      {attachments.length > 0 && (
        <div className={cn("flex max-w-[85%] justify-end sm:max-w-[75%]", failed ? "opacity-80" : "opacity-70")}>
          <MessageAttachments attachments={attachments} own />
        </div>
      )}
      {failed ? (
        <span className="text-destructive flex flex-wrap items-center justify-end gap-2 px-1 text-xs" role="alert">
          <StatusTick status="failed" />
          {error ?? "Not sent"}
          <Button size="sm" variant="outline" className="h-6 px-2 text-xs" onClick={onRetry}>
            Retry
          </Button>
          <Button size="sm" variant="ghost" className="h-6 px-2 text-xs" onClick={onDiscard}>
            Discard
          </Button>
        </span>
      ) : (
        <span className="text-muted-foreground flex items-center gap-1 px-1 text-[11px]">
          <ClockIcon aria-hidden="true" className="size-3.5" />
          Sending…
        </span>
      )}
    </div>
  );
}
