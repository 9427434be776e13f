"use client";

import { useState, type MouseEvent } from "react";
import { DownloadIcon } from "lucide-react";
import { Button } from "~/components/ui/button";
import { cn } from "~/lib/utils";
import { attachmentUrl, formatFileSize, isInlineImage, type Attachment } from "../contracts";
import { describeFileType } from "../file-labels";
import { IMAGE_BOX_MAX, IMAGE_BOX_MAX_IN_GRID, imageBox } from "../image-box";
import { FileIconTile } from "./file-icon";
import { ImageViewer } from "./image-viewer";

/**
 * A message's files under its text: images as thumbnails in the space their size
 * gives them (so the timeline does not move when they load), opening the viewer;
 * other files as cards with a download.
 */
export function MessageAttachments({ attachments, own }: { attachments: Attachment[]; own: boolean }) {
  const [viewing, setViewing] = useState<number | null>(null);
  // A thumbnail that fails to load is shown as a file card instead.
  const [broken, setBroken] = useState<ReadonlySet<string>>(new Set());
  if (attachments.length === 0) return null;
  const images = attachments.filter((attachment) => isInlineImage(attachment) && attachment.hasThumbnail && !broken.has(attachment.id));
  const files = attachments.filter((attachment) => !images.includes(attachment));
  const max = images.length > 1 ? IMAGE_BOX_MAX_IN_GRID : IMAGE_BOX_MAX;

  return (
    <div className={cn("flex max-w-full flex-col gap-1", own ? "items-end" : "items-start")}>
      {images.length > 0 && (
        <div className={cn("flex max-w-full flex-wrap gap-1", own && "justify-end")}>
          {images.map((image, index) => (
            <ImageThumbnail
              key={image.id}
              image={image}
              max={max}
              onOpen={() => setViewing(index)}
              onError={() => setBroken((ids) => new Set(ids).add(image.id))}
            />
          ))}
        </div>
      )}
      {files.map((file) => (
        <FileCard key={file.id} file={file} />
      ))}
      <ImageViewer images={images} index={viewing} onIndexChange={setViewing} onClose={() => setViewing(null)} />
    </div>
  );
}

function ImageThumbnail({ image, max, onOpen, onError }: { image: Attachment; max: number; onOpen: () => void; onError: () => void }) {
  const box = imageBox(image.width, image.height, max);
  const open = (event: MouseEvent) => {
    // Ctrl/Cmd/Shift/middle click open the image in a tab, as a link does.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    onOpen();
  };
  return (
    <a
      href={attachmentUrl(image.id, "inline")}
      onClick={open}
      aria-haspopup="dialog"
      title={image.name}
      className="focus-visible:ring-ring/50 block max-w-full overflow-hidden rounded-lg outline-none focus-visible:ring-[3px]"
      style={{ width: box.width, aspectRatio: `${box.width} / ${box.height}` }}
    >
      {/* A small WebP from our route, behind its access check: next/image has nothing to add. */}
      {/* eslint-disable-next-line @next/next/no-img-element */}
      <img
        src={attachmentUrl(image.id, "thumbnail")}
        alt={image.name}
        width={box.width}
        height={box.height}
        loading="lazy"
        decoding="async"
        onError={onError}
        className="bg-muted size-full object-cover"
      />
    </a>
  );
}

function FileCard({ file }: { file: Attachment }) {
  const { label, kind } = describeFileType(file.name, file.contentType);
  return (
    <div className="bg-background text-foreground flex w-72 max-w-full items-center gap-3 rounded-lg border p-2">
      <FileIconTile kind={kind} />
      <div className="grid min-w-0 flex-1">
        <span className="truncate text-sm font-medium" title={file.name}>
          {file.name}
        </span>
        <span className="text-muted-foreground truncate text-xs">
          {label} · {formatFileSize(file.size)}
        </span>
      </div>
      <Button asChild size="icon" variant="ghost" className="shrink-0">
        <a href={attachmentUrl(file.id)} download aria-label={`Download ${file.name}`} title="Download">
          <DownloadIcon aria-hidden="true" />
        </a>
      </Button>
    </div>
  );
}
