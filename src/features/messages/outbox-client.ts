"use client";

import { useEffect, useMemo, useSyncExternalStore } from "react";
import { TRPCClientError } from "@trpc/client";
import { toast } from "sonner";
import type { Attachment } from "~/features/attachments/contracts";
import { deleteAttachment } from "~/features/attachments/upload-client";
import { api } from "~/trpc/react";
import { attachmentIdsOf, OutboxRunner, OutboxStore, type OutboxEntry, type SendFailure } from "./outbox";
import { upsertInTimeline } from "./timeline-cache";

// The browser side of the outbox: one store and one runner per signed-in user and
// tab, kept in step with other tabs through the storage event.

const outboxes = new Map<string, { store: OutboxStore; runner?: OutboxRunner }>();

function outboxOf(userId: string) {
  let outbox = outboxes.get(userId);
  if (!outbox) {
    const storage = typeof window === "undefined" ? null : window.localStorage;
    outbox = { store: new OutboxStore(storage, `chatline:outbox:${userId}`) };
    outboxes.set(userId, outbox);
  }
  return outbox;
}

/**
 * Offline, timed out or the server failed: try again. Rate limited: wait as long as the
 * server says, then go on in order. Any other no (4xx): show it and stop.
 */
export function classifySendError(error: unknown): SendFailure {
  if (error instanceof TRPCClientError) {
    const data = error.data as { httpStatus?: number; code?: string; retryAfterMs?: number | null } | undefined;
    if (data?.code === "TOO_MANY_REQUESTS") return { kind: "wait", ms: Math.max(1_000, data.retryAfterMs ?? 5_000), message: error.message };
    const status = data?.httpStatus;
    if (status !== undefined && status >= 400 && status < 500 && status !== 408) return { kind: "refused", message: error.message };
  }
  return { kind: "retry" };
}

const EMPTY: OutboxEntry[] = [];

/** The viewer's unsent messages in one conversation, oldest first. */
export function useOutboxEntries(userId: string, conversationId: string): OutboxEntry[] {
  const { store } = outboxOf(userId);
  const all = useSyncExternalStore(store.subscribe, store.getSnapshot, () => EMPTY);
  return useMemo(() => all.filter((entry) => entry.conversationId === conversationId), [all, conversationId]);
}

/** Puts a message (its text, and the files already uploaded for it) into the outbox and starts sending. */
export function sendToOutbox(userId: string, conversationId: string, content: string, attachments: Attachment[] = []) {
  const outbox = outboxOf(userId);
  outbox.store.add({ clientMessageId: crypto.randomUUID(), conversationId, content, ...(attachments.length > 0 ? { attachments } : {}) });
  outbox.runner?.kick();
}

export function useOutboxActions(userId: string) {
  const { store } = outboxOf(userId);
  return useMemo(
    () => ({
      send(conversationId: string, content: string, attachments?: Attachment[]) {
        sendToOutbox(userId, conversationId, content, attachments);
      },
      retry(clientMessageId: string) {
        store.retry(clientMessageId);
        outboxOf(userId).runner?.kick();
      },
      /** Drops a message that was not sent; its files, uploaded but never sent, go too. */
      discard(clientMessageId: string) {
        const entry = store.getSnapshot().find((item) => item.clientMessageId === clientMessageId);
        store.remove(clientMessageId);
        if (entry) for (const id of attachmentIdsOf(entry)) deleteAttachment(id);
      },
    }),
    [store, userId],
  );
}

/**
 * Drains the outbox for this tab: at once, whenever the browser comes back online,
 * whenever the event stream is live again, and on its own backoff in between.
 */
export function useOutboxRunner(userId: string, live: boolean) {
  const utils = api.useUtils();
  useEffect(() => {
    const outbox = outboxOf(userId);
    if (outbox.runner) return;
    outbox.runner = new OutboxRunner({
      store: outbox.store,
      send: (entry, signal) =>
        utils.client.messages.send.mutate(
          {
            conversationId: entry.conversationId,
            content: entry.content,
            clientMessageId: entry.clientMessageId,
            attachmentIds: attachmentIdsOf(entry),
          },
          { signal },
        ),
      classify: classifySendError,
      onSent(_entry, message) {
        upsertInTimeline(utils, message);
        void utils.conversations.invalidate();
      },
      onRefused(_entry, message) {
        toast.error(`Not sent: ${message}`);
      },
      onWait(_entry, message) {
        toast.warning(`${message} Your message will go out by itself.`, { id: "outbox-rate-limited" });
      },
    });
    const onStorage = (event: StorageEvent) => {
      if (event.key !== `chatline:outbox:${userId}`) return;
      outbox.store.reload();
      outbox.runner?.kick();
    };
    const kick = () => outbox.runner?.kick();
    window.addEventListener("storage", onStorage);
    window.addEventListener("online", kick);
    kick();
    // The runner lives as long as the tab: unsent messages keep going while the
    // reader moves between pages.
  }, [userId, utils]);

  useEffect(() => {
    if (live) outboxOf(userId).runner?.kick();
  }, [live, userId]);
}
