import {
  FileArchiveIcon,
  FileAudioIcon,
  FileCodeIcon,
  FileIcon as FileGenericIcon,
  FileImageIcon,
  FileSpreadsheetIcon,
  FileTextIcon,
  FileVideoIcon,
  PresentationIcon,
  type LucideProps,
} from "lucide-react";
import type { FileKind } from "../file-labels";

const ICONS: Record<FileKind, React.ComponentType<LucideProps>> = {
  image: FileImageIcon,
  video: FileVideoIcon,
  audio: FileAudioIcon,
  pdf: FileTextIcon,
  archive: FileArchiveIcon,
  spreadsheet: FileSpreadsheetIcon,
  presentation: PresentationIcon,
  document: FileTextIcon,
  code: FileCodeIcon,
  text: FileTextIcon,
  other: FileGenericIcon,
};

/** A file's icon by its kind; decorative (the name and type are written beside it). */
export function FileIcon({ kind, ...props }: { kind: FileKind } & LucideProps) {
  const Icon = ICONS[kind];
  return <Icon aria-hidden="true" {...props} />;
}

/** The icon in its square, as file cards show it. */
export function FileIconTile({ kind }: { kind: FileKind }) {
  return (
    <span className="bg-muted flex size-10 shrink-0 items-center justify-center rounded">
      <FileIcon kind={kind} className="text-muted-foreground size-5" />
    </span>
  );
}
