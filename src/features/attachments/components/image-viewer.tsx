"use client";

import type { KeyboardEvent } from "react";
import { ChevronLeftIcon, ChevronRightIcon, DownloadIcon } from "lucide-react";
import { Button } from "~/components/ui/button";
import { cn } from "~/lib/utils";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "~/components/ui/dialog";
import { attachmentUrl, formatFileSize, type Attachment } from "../contracts";

/**
 * One message's images, full size, one at a time: named by the file, with its size
 * and a download; the arrow keys (and buttons) go to the previous and next image,
 * Escape closes.
 */
export function ImageViewer({
  images,
  index,
  onIndexChange,
  onClose,
}: {
  images: Attachment[];
  /** The image shown; null when closed. */
  index: number | null;
  onIndexChange: (index: number) => void;
  onClose: () => void;
}) {
  const image = index === null ? undefined : images[index];
  const hasPrevious = index !== null && index > 0;
  const hasNext = index !== null && index < images.length - 1;
  const onKeyDown = (event: KeyboardEvent) => {
    if (index === null) return;
    if (event.key === "ArrowLeft" && hasPrevious) {
      event.preventDefault();
      onIndexChange(index - 1);
    } else if (event.key === "ArrowRight" && hasNext) {
      event.preventDefault();
      onIndexChange(index + 1);
    }
  };
  const details = image
    ? [formatFileSize(image.size), image.width && image.height ? `${image.width} × ${image.height}` : null, images.length > 1 ? `${index! + 1} of ${images.length}` : null]
        .filter(Boolean)
        .join(" · ")
    : "";

  return (
    <Dialog open={image !== undefined} onOpenChange={(open) => !open && onClose()}>
      {image && (
        <DialogContent
          className="grid max-h-[calc(100dvh-2rem)] grid-rows-[auto_minmax(0,1fr)_auto] sm:max-w-[min(calc(100vw-4rem),72rem)]"
          onKeyDown={onKeyDown}
          // Focus on the dialog itself, so the arrow keys work at once.
          onOpenAutoFocus={(event) => {
            event.preventDefault();
            (event.currentTarget as HTMLElement | null)?.focus();
          }}
        >
          <DialogHeader className="min-w-0 pr-8">
            <DialogTitle className="truncate leading-normal" title={image.name}>
              {image.name}
            </DialogTitle>
            <DialogDescription>{details}</DialogDescription>
          </DialogHeader>
          <div className="relative flex min-h-0 items-center justify-center">
            {/* Served by our route with its access check; next/image would proxy it. */}
            {/* eslint-disable-next-line @next/next/no-img-element */}
            <img
              key={image.id}
              src={attachmentUrl(image.id, "inline")}
              alt={image.name}
              width={image.width ?? undefined}
              height={image.height ?? undefined}
              className="bg-muted h-auto max-h-[70dvh] w-auto max-w-full rounded object-contain"
            />
            {images.length > 1 && (
              <>
                <StepButton direction="previous" enabled={hasPrevious} onStep={() => onIndexChange(index! - 1)} />
                <StepButton direction="next" enabled={hasNext} onStep={() => onIndexChange(index! + 1)} />
              </>
            )}
          </div>
          <DialogFooter>
            <Button asChild variant="outline">
              <a href={attachmentUrl(image.id)} download aria-label={`Download ${image.name}`}>
                <DownloadIcon aria-hidden="true" />
                Download
              </a>
            </Button>
          </DialogFooter>
        </DialogContent>
      )}
    </Dialog>
  );
}

function StepButton({ direction, enabled, onStep }: { direction: "previous" | "next"; enabled: boolean; onStep: () => void }) {
  const Icon = direction === "previous" ? ChevronLeftIcon : ChevronRightIcon;
  return (
    <Button
      size="icon"
      variant="secondary"
      className={cn(
        "absolute top-1/2 -translate-y-1/2 rounded-full shadow aria-disabled:opacity-40",
        direction === "previous" ? "left-2" : "right-2",
      )}
      aria-label={direction === "previous" ? "Previous image" : "Next image"}
      // Not disabled: a focused button that becomes disabled drops the focus out of the dialog.
      aria-disabled={!enabled}
      onClick={() => enabled && onStep()}
    >
      <Icon aria-hidden="true" />
    </Button>
  );
}
