"use client";

import { useEffect, useRef, useState, type KeyboardEvent, type Ref } from "react";
import { SendHorizontalIcon } from "lucide-react";
import { Button } from "~/components/ui/button";
import { Textarea } from "~/components/ui/textarea";
import { api } from "~/trpc/react";
import { loadDraft, saveDraft } from "../drafts";
import { useOutboxActions } from "../outbox-client";

/** Save the draft this long after the last key, not on every one. */
const DRAFT_SAVE_MS = 300;

/**
 * Enter sends, Shift+Enter starts a new line. A message goes to the outbox, which
 * shows it at once and sends it (again after a reconnect or reload) until the
 * server has it; what is not sent yet stays as a draft across navigation.
 */
export function MessageInput({
  conversationId,
  viewerId,
  maxLength,
  ref,
  onSend,
}: {
  conversationId: string;
  viewerId: string;
  maxLength: number;
  ref?: Ref<HTMLTextAreaElement>;
  /** Called as a message goes to the outbox. */
  onSend?: () => void;
}) {
  const [draft, setDraft] = useState("");
  const outbox = useOutboxActions(viewerId);
  const content = draft.trim();
  const tooLong = content.length > maxLength;
  const typing = useTypingReporter(conversationId);

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

  const submit = () => {
    if (!content || tooLong) return;
    outbox.send(conversationId, content);
    onSend?.();
    changeDraft("");
    clearTimeout(saveTimer.current);
    saveDraft(viewerId, conversationId, "");
    typing.stopped();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  const counterId = `message-counter-${conversationId}`;
  const nearLimit = content.length > maxLength * 0.9;
  return (
    <form
      className="flex items-end gap-2 border-t p-3"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
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
          placeholder="Write a message"
          rows={1}
          aria-describedby={nearLimit ? counterId : undefined}
          aria-invalid={tooLong || undefined}
          className="max-h-40 min-h-10 resize-none"
        />
        {nearLimit && (
          <span id={counterId} className={tooLong ? "text-destructive text-xs" : "text-muted-foreground text-xs"} aria-live="polite">
            {content.length} / {maxLength}
            {tooLong ? ` · ${content.length - maxLength} too many` : ""}
          </span>
        )}
      </div>
      <Button type="submit" size="icon" disabled={!content || tooLong} aria-label="Send">
        <SendHorizontalIcon aria-hidden="true" />
      </Button>
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
