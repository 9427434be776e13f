"use client";

import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { SendHorizontalIcon } from "lucide-react";
import { toast } from "sonner";
import { Button } from "~/components/ui/button";
import { Textarea } from "~/components/ui/textarea";
import { LATEST_PAGE } from "~/features/events/use-messaging-events";
import { api } from "~/trpc/react";

/** Enter sends, Shift+Enter starts a new line. Each send carries its own client message id, so a retry never doubles it. */
export function MessageInput({ conversationId, maxLength }: { conversationId: string; maxLength: number }) {
  const utils = api.useUtils();
  const [draft, setDraft] = useState("");
  const send = api.messages.send.useMutation({
    onSuccess(message) {
      utils.messages.list.setData({ conversationId, limit: LATEST_PAGE }, (page) =>
        page && !page.items.some((item) => item.id === message.id) ? { ...page, items: [...page.items, message] } : page,
      );
    },
    onError(error, variables) {
      setDraft((current) => current || variables.content);
      toast.error(error.message);
    },
  });
  const content = draft.trim();
  const tooLong = content.length > maxLength;
  const typing = useTypingReporter(conversationId);

  const submit = () => {
    if (!content || tooLong || send.isPending) return;
    send.mutate({ conversationId, content, clientMessageId: crypto.randomUUID() });
    setDraft("");
    typing.stopped();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

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
          id="message-input"
          value={draft}
          onChange={(event) => {
            setDraft(event.target.value);
            typing.typed();
          }}
          onKeyDown={onKeyDown}
          placeholder="Write a message"
          rows={1}
          className="max-h-40 min-h-10 resize-none"
        />
        {content.length > maxLength * 0.9 && (
          <span className={tooLong ? "text-destructive text-xs" : "text-muted-foreground text-xs"} aria-live="polite">
            {content.length} / {maxLength}
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
