"use client";

import { useEffect, useRef, useState, type DragEvent } from "react";

// Files dragged from the desktop onto an area (the conversation): it lights up while
// they are over it and takes them when they are dropped. Dragged text or links are
// left alone. Anywhere else on the page a dropped file would replace the app with
// the file, so that is prevented while the area is mounted.

const carriesFiles = (event: { dataTransfer: DataTransfer | null }) => event.dataTransfer?.types.includes("Files") ?? false;

/** The dropped files, without folders (which browsers hand over as empty files). */
function droppedFiles(data: DataTransfer): { files: File[]; folders: string[] } {
  const folders = new Set<string>();
  for (const item of Array.from(data.items)) {
    const entry = item.kind === "file" ? item.webkitGetAsEntry?.() : null;
    if (entry?.isDirectory) folders.add(entry.name);
  }
  const files = Array.from(data.files).filter((file) => !(folders.has(file.name) && file.type === ""));
  return { files, folders: [...folders] };
}

export function useFileDrop(onDrop: (files: File[], folders: string[]) => void) {
  const [dragging, setDragging] = useState(false);
  // dragenter and dragleave fire for every child crossed: count them.
  const depth = useRef(0);

  useEffect(() => {
    const guard = (event: globalThis.DragEvent) => {
      if (event.defaultPrevented || !carriesFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "none";
    };
    window.addEventListener("dragover", guard);
    window.addEventListener("drop", guard);
    return () => {
      window.removeEventListener("dragover", guard);
      window.removeEventListener("drop", guard);
    };
  }, []);

  const handlers = {
    onDragEnter(event: DragEvent) {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth.current += 1;
      setDragging(true);
    },
    onDragOver(event: DragEvent) {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    },
    onDragLeave(event: DragEvent) {
      if (!carriesFiles(event)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setDragging(false);
    },
    onDrop(event: DragEvent) {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth.current = 0;
      setDragging(false);
      const { files, folders } = droppedFiles(event.dataTransfer);
      onDrop(files, folders);
    },
  };
  return { dragging, handlers };
}
