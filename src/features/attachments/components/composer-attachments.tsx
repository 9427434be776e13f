"use client";

import { useState } from "react";
import { RotateCwIcon, XIcon } from "lucide-react";
import { Button } from "~/components/ui/button";
import { Progress } from "~/components/ui/progress";
import { cn } from "~/lib/utils";
import { formatFileSize } from "../contracts";
import { describeFileType } from "../file-labels";
import type { PendingUpload } from "../pending-uploads";
import { FileIconTile } from "./file-icon";

/**
 * The files in the composer, one card each: a preview or icon, the name, then the
 * upload's progress, its error, or the type and size. Cancel while uploading,
 * remove after, retry a failed upload that may work again.
 */
export function ComposerAttachments({
  uploads,
  onRemove,
  onRetry,
}: {
  uploads: PendingUpload[];
  onRemove: (localId: string) => void;
  onRetry: (localId: string) => void;
}) {
  if (uploads.length === 0) return null;
  return (
    <ul aria-label="Files to send" className="flex gap-2 overflow-x-auto pb-1">
      {uploads.map((upload) => (
        <PendingAttachment key={upload.localId} upload={upload} onRemove={() => onRemove(upload.localId)} onRetry={() => onRetry(upload.localId)} />
      ))}
    </ul>
  );
}

function PendingAttachment({ upload, onRemove, onRetry }: { upload: PendingUpload; onRemove: () => void; onRetry: () => void }) {
  const { label, kind } = describeFileType(upload.name, upload.type);
  const percent = Math.round(upload.progress * 100);
  const failed = upload.state === "failed";
  // A preview the browser cannot draw (a "picture" that is not one) gives way to the icon.
  const [previewBroken, setPreviewBroken] = useState(false);
  const preview = upload.previewUrl && !previewBroken && !failed ? upload.previewUrl : null;
  return (
    <li
      data-testid="pending-attachment"
      data-state={upload.state}
      aria-label={upload.name}
      className={cn("bg-background flex w-60 shrink-0 items-center gap-2 rounded-lg border p-2", failed && "border-destructive w-80")}
    >
      {preview ? (
        // A local object URL: next/image has nothing to optimise.
        // eslint-disable-next-line @next/next/no-img-element
        <img src={preview} alt="" className="bg-muted size-10 shrink-0 rounded object-cover" onError={() => setPreviewBroken(true)} />
      ) : (
        <FileIconTile kind={kind} />
      )}
      <div className="grid min-w-0 flex-1 gap-1">
        <span className="truncate text-sm font-medium" title={upload.name}>
          {upload.name}
        </span>
        {upload.state === "uploading" ? (
          <Progress value={percent} aria-label={`Uploading ${upload.name}`} className="h-1.5" />
        ) : failed ? (
          <span className="text-destructive line-clamp-3 text-xs" title={upload.error} role="alert">
            {upload.error}
          </span>
        ) : (
          <span className="text-muted-foreground truncate text-xs">
            {label} · {formatFileSize(upload.size)}
          </span>
        )}
      </div>
      {failed && upload.retryable && (
        <Button type="button" size="icon" variant="ghost" className="size-7 shrink-0" aria-label={`Retry uploading ${upload.name}`} title="Retry" onClick={onRetry}>
          <RotateCwIcon aria-hidden="true" />
        </Button>
      )}
      <Button
        type="button"
        size="icon"
        variant="ghost"
        className="size-7 shrink-0"
        aria-label={upload.state === "uploading" ? `Cancel uploading ${upload.name}` : `Remove ${upload.name}`}
        title={upload.state === "uploading" ? "Cancel upload" : "Remove"}
        onClick={onRemove}
      >
        <XIcon aria-hidden="true" />
      </Button>
    </li>
  );
}
