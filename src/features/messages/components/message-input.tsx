"use client";

import { useEffect, useRef, useState, type ClipboardEvent, type KeyboardEvent, type Ref } from "react";
import { Loader2Icon, SendHorizontalIcon } from "lucide-react";
import { Button } from "~/components/ui/button";
import { Textarea } from "~/components/ui/textarea";
import { AttachButton } from "~/features/attachments/components/attach-button";
import { ComposerAttachments } from "~/features/attachments/components/composer-attachments";
import type { AttachmentSettings } from "~/features/attachments/file-acceptance";
import { attachFiles, usePendingUploads } from "~/features/attachments/use-pending-uploads";
import { api } from "~/trpc/react";
import { loadDraft, saveDraft } from "../drafts";

/** Save the draft this long after the last key, not on every one. */
const DRAFT_SAVE_MS = 300;

/**
 * Enter sends, Shift+Enter starts a new line. A message goes to the outbox, which
 * shows it at once and sends it (again after a reconnect or reload) until the
 * server has it; what is not sent yet stays as a draft across navigation.
 *
 * Files (the paperclip, a paste, or a drop on the conversation) upload at once. A
 * send while some are still uploading waits for them, the text locked meanwhile,
 * then goes out by itself; a failed upload holds the send until it is retried or
 * removed. The text may be empty when there are files.
 */
export function MessageInput({
  conversationId,
  viewerId,
  maxLength,
  attachmentSettings,
  ref,
  onSend,
}: {
  conversationId: string;
  viewerId: string;
  maxLength: number;
  attachmentSettings: AttachmentSettings;
  ref?: Ref<HTMLTextAreaElement>;
  /** Called as a message goes to the outbox. */
  onSend?: () => void;
}) {
  const [draft, setDraft] = useState("");
  const files = usePendingUploads(viewerId, conversationId);
  const content = draft.trim();
  const tooLong = content.length > maxLength;
  const typing = useTypingReporter(conversationId);
  const form = useRef<HTMLFormElement>(null);
  const waiting = files.waiting !== null;
  const uploading = files.uploads.filter((upload) => upload.state === "uploading").length;
  const failed = files.uploads.filter((upload) => upload.state === "failed").length;
  const canSend = (content !== "" || files.uploads.length > 0) && !tooLong && failed === 0 && !waiting;
  const attachEnabled = attachmentSettings.allowFileAttachments;

  // The stored draft is read after hydration: the server cannot know it.
  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- loading from localStorage once per conversation
    setDraft(loadDraft(viewerId, conversationId));
  }, [viewerId, conversationId]);
  const saveTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latestDraft = useRef({ viewerId, conversationId, text: "", dirty: false });
  useEffect(
    () => () => {
      // Leaving the conversation: keep what was typed even if the timer had not fired.
      clearTimeout(saveTimer.current);
      const pending = latestDraft.current;
      if (pending.dirty) saveDraft(pending.viewerId, pending.conversationId, pending.text);
    },
    [],
  );

  const changeDraft = (text: string) => {
    setDraft(text);
    latestDraft.current = { viewerId, conversationId, text, dirty: true };
    clearTimeout(saveTimer.current);
    saveTimer.current = setTimeout(() => saveDraft(viewerId, conversationId, text), DRAFT_SAVE_MS);
  };

  const afterSend = () => {
    changeDraft("");
    clearTimeout(saveTimer.current);
    saveDraft(viewerId, conversationId, "");
    typing.stopped();
    onSend?.();
  };

  // A send that waited for uploads went out: the composer starts afresh.
  const seenSent = useRef(files.sent);
  useEffect(() => {
    if (files.sent === seenSent.current) return;
    seenSent.current = files.sent;
    afterSend();
    // Only a new send matters, not the callbacks' identity.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [files.sent]);

  const submit = () => {
    if (tooLong) return;
    const outcome = files.store.requestSend(content);
    if (outcome === "sent") {
      seenSent.current = files.store.getSnapshot().sent;
      afterSend();
    } else if (outcome === "waiting") {
      typing.stopped();
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === "Escape" && waiting) {
      event.preventDefault();
      files.store.cancelWait();
    }
  };

  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const pasted = Array.from(event.clipboardData.files);
    if (!attachEnabled || pasted.length === 0) return;
    // Office apps put a picture of copied text (cells, a paragraph) beside it: that is a text paste.
    const { types } = event.clipboardData;
    if (types.includes("text/plain") && types.includes("text/html")) return;
    event.preventDefault();
    attachFiles(files.store, pasted, attachmentSettings, "pasted");
  };

  const focusText = () => form.current?.querySelector("textarea")?.focus();
  const counterId = `message-counter-${conversationId}`;
  const statusId = `message-send-status-${conversationId}`;
  const nearLimit = content.length > maxLength * 0.9;
  const status = waiting
    ? uploading === 1
      ? "Sending when the upload finishes…"
      : `Sending when ${uploading} uploads finish…`
    : failed > 0
      ? failed === 1
        ? "Retry or remove the failed upload to send."
        : `Retry or remove the ${failed} failed uploads to send.`
      : "";
  return (
    <form
      ref={form}
      className="grid gap-2 border-t p-3"
      // While a send waits, Escape cancels it rather than closing a panel around the composer.
      data-handles-escape={waiting || undefined}
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <ComposerAttachments
        uploads={files.uploads}
        onRemove={(localId) => {
          files.store.remove(localId);
          focusText();
        }}
        onRetry={(localId) => files.store.retry(localId)}
      />
      <div className="flex items-end gap-2">
        {attachEnabled && (
          <AttachButton allowedFileTypes={attachmentSettings.allowedFileTypes} onFiles={(picked) => attachFiles(files.store, picked, attachmentSettings, "picked")} />
        )}
        <div className="grid flex-1 gap-1">
          <label htmlFor="message-input" className="sr-only">
            Message
          </label>
          <Textarea
            ref={ref}
            id="message-input"
            value={draft}
            onChange={(event) => {
              changeDraft(event.target.value);
              typing.typed();
            }}
            onKeyDown={onKeyDown}
            onPaste={onPaste}
            readOnly={waiting}
            placeholder={files.uploads.length > 0 ? "Add a message (optional)" : "Write a message"}
            rows={1}
            aria-describedby={[nearLimit ? counterId : "", status ? statusId : ""].filter(Boolean).join(" ") || undefined}
            aria-invalid={tooLong || undefined}
            className="max-h-40 min-h-10 resize-none read-only:opacity-70"
          />
          {nearLimit && (
            <span id={counterId} className={tooLong ? "text-destructive text-xs" : "text-muted-foreground text-xs"} aria-live="polite">
              {content.length} / {maxLength}
              {tooLong ? ` · ${content.length - maxLength} too many` : ""}
            </span>
          )}
        </div>
        <Button
          type="submit"
          size="icon"
          // Waiting, it stays focusable: a focused button that becomes disabled loses the focus.
          disabled={!canSend && !waiting}
          aria-disabled={waiting || undefined}
          aria-label={waiting ? "Waiting for uploads to send" : "Send"}
          aria-busy={waiting || undefined}
          data-state={waiting ? "waiting" : undefined}
        >
          {waiting ? <Loader2Icon aria-hidden="true" className="animate-spin" /> : <SendHorizontalIcon aria-hidden="true" />}
        </Button>
      </div>
      <div id={statusId} role="status" className={status ? "flex items-center gap-2 text-xs" : "sr-only"}>
        {status && <span className={failed > 0 && !waiting ? "text-destructive" : "text-muted-foreground"}>{status}</span>}
        {waiting && (
          <Button type="button" variant="link" size="sm" className="h-auto p-0 text-xs" onClick={() => files.store.cancelWait()}>
            Cancel sending
          </Button>
        )}
      </div>
    </form>
  );
}

/** While typing continues, tell the others every 2 s at most; say "stopped" after 3 s without a key. */
const TYPING_REPEAT_MS = 2_000;
const TYPING_IDLE_MS = 3_000;

function useTypingReporter(conversationId: string) {
  // React Query keeps `mutate` stable across renders.
  const { mutate: report } = api.messages.typing.useMutation();
  const lastSent = useRef(0);
  const idleTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const stopped = () => {
    clearTimeout(idleTimer.current);
    if (lastSent.current === 0) return;
    lastSent.current = 0;
    report({ conversationId, isTyping: false });
  };

  useEffect(
    () => () => {
      clearTimeout(idleTimer.current);
      if (lastSent.current !== 0) report({ conversationId, isTyping: false });
    },
    [conversationId, report],
  );

  return {
    typed() {
      const now = Date.now();
      if (now - lastSent.current > TYPING_REPEAT_MS) {
        lastSent.current = now;
        report({ conversationId, isTyping: true });
      }
      clearTimeout(idleTimer.current);
      idleTimer.current = setTimeout(stopped, TYPING_IDLE_MS);
    },
    stopped,
  };
}
