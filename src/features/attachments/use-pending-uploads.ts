"use client";

import { useSyncExternalStore } from "react";
import { toast } from "sonner";
import { saveDraft } from "~/features/messages/drafts";
import { sendToOutbox } from "~/features/messages/outbox-client";
import { MAX_ATTACHMENTS_PER_MESSAGE } from "./contracts";
import { checkFile, type AttachmentSettings } from "./file-acceptance";
import { pastedFileName } from "./file-labels";
import { PendingUploads, type PendingUploadsSnapshot } from "./pending-uploads";
import { deleteAttachment, uploadAttachment } from "./upload-client";

// One composer's files per user and conversation, for the life of the tab: uploads
// and a send waiting on them go on while the person reads another conversation.

const stores = new Map<string, PendingUploads>();

/** Leaving the page would drop uploads in progress and a send waiting on them: the browser asks first. */
function warnBeforeLeaving(event: BeforeUnloadEvent) {
  const busy = [...stores.values()].some((store) => {
    const { uploads, waiting } = store.getSnapshot();
    return waiting !== null || uploads.some((upload) => upload.state === "uploading");
  });
  if (busy) event.preventDefault();
}

export function pendingUploadsOf(userId: string, conversationId: string): PendingUploads {
  const key = `${userId}:${conversationId}`;
  let store = stores.get(key);
  if (!store) {
    store = new PendingUploads({
      conversationId,
      upload: uploadAttachment,
      discard: (attachment) => deleteAttachment(attachment.id),
      send(content, attachments) {
        sendToOutbox(userId, conversationId, content, attachments);
        // The text is in the outbox now; the composer may not be there to clear its draft.
        saveDraft(userId, conversationId, "");
      },
      onWaitStopped: (reason) => toast.error("Not sent: an upload failed.", { description: reason }),
      createPreview: (file) => URL.createObjectURL(file),
      revokePreview: (url) => URL.revokeObjectURL(url),
      newId: () => crypto.randomUUID(),
    });
    if (stores.size === 0 && typeof window !== "undefined") window.addEventListener("beforeunload", warnBeforeLeaving);
    stores.set(key, store);
  }
  return store;
}

const EMPTY: PendingUploadsSnapshot = { uploads: [], waiting: null, sent: 0 };

export function usePendingUploads(userId: string, conversationId: string) {
  const store = pendingUploadsOf(userId, conversationId);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, () => EMPTY);
  return { store, ...snapshot };
}

/**
 * Files chosen, dropped or pasted: those the settings refuse are named in a toast,
 * the others start uploading (up to the per-message limit).
 */
export function attachFiles(store: PendingUploads, files: File[], settings: AttachmentSettings, how: "picked" | "dropped" | "pasted") {
  if (files.length === 0) return;
  const now = new Date();
  const named = files.map((file) => ({ file, name: how === "pasted" ? pastedFileName(file.name, file.type, now) : file.name || "file" }));
  const refusals: string[] = [];
  const accepted = named.filter(({ file, name }) => {
    const verdict = checkFile({ name, size: file.size, type: file.type }, settings);
    if (!verdict.ok) refusals.push(verdict.reason);
    return verdict.ok;
  });
  if (refusals.length === 1) toast.error(refusals[0]);
  else if (refusals.length > 1) toast.error(`${refusals.length} files were not attached.`, { description: refusals.join(" ") });
  const { refused } = store.add(accepted);
  if (refused > 0) {
    toast.error(`A message carries at most ${MAX_ATTACHMENTS_PER_MESSAGE} files.`, {
      description: `${refused} ${refused === 1 ? "file was" : "files were"} not attached.`,
    });
  }
}
