"use client";

import { useRef } from "react";
import { PaperclipIcon } from "lucide-react";
import { Button } from "~/components/ui/button";
import { acceptAttribute } from "../file-acceptance";

/** The paperclip: opens the file picker (several files, of the allowed types). */
export function AttachButton({ allowedFileTypes, onFiles }: { allowedFileTypes: readonly string[]; onFiles: (files: File[]) => void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        accept={acceptAttribute(allowedFileTypes)}
        hidden
        data-testid="attachment-input"
        onChange={(event) => {
          const files = Array.from(event.target.files ?? []);
          // Choosing the same file again must fire change again.
          event.target.value = "";
          onFiles(files);
        }}
      />
      <Button type="button" size="icon" variant="ghost" aria-label="Attach files" title="Attach files" onClick={() => input.current?.click()}>
        <PaperclipIcon aria-hidden="true" />
      </Button>
    </>
  );
}
