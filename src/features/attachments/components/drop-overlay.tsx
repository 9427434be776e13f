import { UploadIcon } from "lucide-react";

/** Shown over the conversation while files are dragged over it; lets the drag events through. */
export function DropOverlay({ target }: { target: string }) {
  return (
    <div
      data-testid="drop-zone"
      className="border-primary bg-background/85 pointer-events-none absolute inset-2 z-30 flex flex-col items-center justify-center gap-2 rounded-xl border-2 border-dashed text-center"
    >
      <UploadIcon aria-hidden="true" className="text-primary size-8" />
      <p className="font-medium">Drop files to attach</p>
      {target && <p className="text-muted-foreground max-w-xs truncate text-sm">Upload to {target}</p>}
    </div>
  );
}
