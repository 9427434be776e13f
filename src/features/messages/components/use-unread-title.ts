"use client";

import { useEffect } from "react";

const COUNT_PREFIX = /^\(\d+\+?\) /;

/** "(3) Messages · Chatline": the unread total in the tab's title while this is mounted; the title is put back after. */
export function useUnreadTitle(total: number) {
  useEffect(() => {
    const base = document.title.replace(COUNT_PREFIX, "");
    document.title = total > 0 ? `(${total > 999 ? "999+" : total}) ${base}` : base;
    return () => {
      document.title = document.title.replace(COUNT_PREFIX, "");
    };
  }, [total]);
}
