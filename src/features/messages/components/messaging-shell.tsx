"use client";

import { createContext, useContext, useEffect, type ReactNode } from "react";
import { useParams } from "next/navigation";
import { AppBrand } from "~/components/app-brand";
import { UserMenu } from "~/features/auth/components/user-menu";
import { ConversationList } from "~/features/conversations/components/conversation-list";
import { NewConversationDialog } from "~/features/conversations/components/new-conversation-dialog";
import { useMessagingEvents } from "~/features/events/use-messaging-events";
import { cn } from "~/lib/utils";
import { api } from "~/trpc/react";

interface Viewer {
  id: string;
  name: string;
  email: string;
  image: string | null;
  maxMessageLength: number;
}

const ViewerContext = createContext<Viewer | null>(null);

export function useViewer(): Viewer {
  const viewer = useContext(ViewerContext);
  if (!viewer) throw new Error("useViewer() is used outside MessagingShell");
  return viewer;
}

/** The messaging app around a page: header, conversation list, the live event stream. */
export function MessagingShell({ viewer, children }: { viewer: Viewer; children: ReactNode }) {
  const status = useMessagingEvents();
  const unread = api.conversations.unreadCount.useQuery();
  const total = unread.data?.total ?? 0;
  useEffect(() => {
    document.title = total > 0 ? `(${total}) Messages · Chatline` : "Messages · Chatline";
  }, [total]);
  const params = useParams<{ conversationId?: string }>();
  const activeId = params.conversationId;

  return (
    <ViewerContext.Provider value={viewer}>
      <div className="flex h-svh flex-col">
        <header className="flex h-14 shrink-0 items-center justify-between gap-4 border-b px-4">
          <AppBrand href="/messages" />
          <div className="flex items-center gap-3">
            {status !== "live" && (
              <span role="status" className="text-muted-foreground text-xs">
                {status === "connecting" ? "Connecting…" : "Reconnecting…"}
              </span>
            )}
            <UserMenu name={viewer.name} email={viewer.email} image={viewer.image} />
          </div>
        </header>
        <div className="flex min-h-0 flex-1">
          <nav
            aria-label="Conversations"
            className={cn("flex w-full shrink-0 flex-col border-r md:w-80", activeId && "hidden md:flex")}
          >
            <div className="flex items-center justify-between gap-2 p-3">
              <h2 className="text-sm font-semibold">Messages</h2>
              <NewConversationDialog />
            </div>
            <div className="min-h-0 flex-1 overflow-y-auto">
              <ConversationList viewerId={viewer.id} activeId={activeId} />
            </div>
          </nav>
          <main className={cn("min-w-0 flex-1 flex-col", activeId ? "flex" : "hidden md:flex")}>{children}</main>
        </div>
      </div>
    </ViewerContext.Provider>
  );
}
