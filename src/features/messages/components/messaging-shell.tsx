"use client";

import { createContext, useContext, useState, type ReactNode } from "react";
import { useParams, usePathname, useSearchParams } from "next/navigation";
import { AppBrand } from "~/components/app-brand";
import { UserMenu } from "~/features/auth/components/user-menu";
import { ConversationList } from "~/features/conversations/components/conversation-list";
import { NewConversationDialog } from "~/features/conversations/components/new-conversation-dialog";
import { useMessagingEvents } from "~/features/events/use-messaging-events";
import { NotificationBell } from "~/features/notifications/components/notification-bell";
import { useViewingReport } from "~/features/presence/use-viewing-report";
import { MessageSearch } from "~/features/search/components/message-search";
import { EMPTY_SEARCH } from "~/features/search/search-query";
import type { PublicMessagingSettings } from "~/features/settings/contracts";
import { usePublicSettings } from "~/features/settings/use-public-settings";
import { cn } from "~/lib/utils";
import { parseMessageTarget } from "../message-link";
import { useOutboxRunner } from "../outbox-client";
import { AlertSettings } from "./alert-settings";
import { useUnreadTitle } from "./use-unread-title";
import { api } from "~/trpc/react";

interface Viewer {
  id: string;
  name: string;
  email: string;
  image: string | null;
  /** For the account menu's links to the admin pages. */
  permissions?: readonly string[];
}

const ViewerContext = createContext<(Viewer & { settings: PublicMessagingSettings }) | null>(null);

/** The signed-in person and the messaging settings as they are now (they follow an admin's changes live). */
export function useViewer(): Viewer & { settings: PublicMessagingSettings } {
  const viewer = useContext(ViewerContext);
  if (!viewer) throw new Error("useViewer() is used outside MessagingShell");
  return viewer;
}

/** The messaging app around a page: header, conversation list, the live event stream. */
export function MessagingShell({
  viewer,
  initialSettings,
  children,
}: {
  viewer: Viewer;
  initialSettings: PublicMessagingSettings;
  children: ReactNode;
}) {
  const settings = usePublicSettings(initialSettings);
  const status = useMessagingEvents(viewer.id);
  useViewingReport();
  useOutboxRunner(viewer.id, status === "live");
  const unread = api.conversations.unreadCount.useQuery();
  const total = unread.data?.total ?? 0;
  useUnreadTitle(total);
  const params = useParams<{ conversationId?: string }>();
  const activeId = params.conversationId;
  const pathname = usePathname();
  // On a small screen the list and a page (a conversation, the notification settings) take turns.
  const pageOpen = activeId !== undefined || pathname !== "/messages";
  const searchParams = useSearchParams();
  const activeMessageId = activeId ? parseMessageTarget(searchParams)?.messageId : undefined;
  // Kept here, above the pages: the results stay while one of them is open beside them.
  const [search, setSearch] = useState(EMPTY_SEARCH);

  return (
    <ViewerContext.Provider value={{ ...viewer, settings }}>
      <div className="flex h-svh flex-col">
        <header className="flex h-14 shrink-0 items-center justify-between gap-4 border-b px-4">
          <AppBrand href="/messages" />
          <div className="flex items-center gap-3">
            {status !== "live" && (
              <span role="status" className="text-muted-foreground text-xs">
                {status === "connecting" ? "Connecting…" : "Reconnecting…"}
              </span>
            )}
            <AlertSettings />
            <NotificationBell live />
            <UserMenu name={viewer.name} email={viewer.email} image={viewer.image} permissions={viewer.permissions} />
          </div>
        </header>
        <div className="flex min-h-0 flex-1">
          <nav
            aria-label="Conversations"
            className={cn("flex w-full shrink-0 flex-col border-r md:w-80", pageOpen && "hidden md:flex", !settings.enabled && "hidden md:hidden")}
          >
            <div className="flex items-center justify-between gap-2 p-3">
              <h2 className="text-sm font-semibold">Messages</h2>
              <NewConversationDialog />
            </div>
            <MessageSearch
              viewerId={viewer.id}
              state={search}
              onStateChange={setSearch}
              scopeConversationId={activeId}
              actions={{ activeConversationId: activeId, activeMessageId }}
            >
              <ConversationList viewerId={viewer.id} activeId={activeId} />
            </MessageSearch>
          </nav>
          <main className={cn("min-w-0 flex-1 flex-col", pageOpen || !settings.enabled ? "flex" : "hidden md:flex")}>
            {settings.enabled ? (
              children
            ) : (
              <div role="status" className="m-auto grid max-w-sm gap-2 p-6 text-center">
                <h1 className="text-lg font-semibold">Messaging is turned off</h1>
                <p className="text-muted-foreground text-sm">
                  An administrator has turned messaging off for now. Your conversations are kept and come back when it is on again.
                </p>
              </div>
            )}
          </main>
        </div>
      </div>
    </ViewerContext.Provider>
  );
}
