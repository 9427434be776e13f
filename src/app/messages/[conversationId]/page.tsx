"use client";

import { useParams, useRouter, useSearchParams } from "next/navigation";
import { ConversationView } from "~/features/messages/components/conversation-view";
import { useViewer } from "~/features/messages/components/messaging-shell";
import { parseMessageTarget } from "~/features/messages/message-link";

export default function ConversationPage() {
  const { conversationId } = useParams<{ conversationId: string }>();
  const viewer = useViewer();
  const router = useRouter();
  // A search result's link (?message=<id>&seq=<seq>) opens the conversation at that message.
  const target = parseMessageTarget(useSearchParams());
  return (
    <ConversationView
      key={conversationId}
      conversationId={conversationId}
      viewerId={viewer.id}
      maxMessageLength={viewer.settings.maxMessageLength}
      attachmentSettings={viewer.settings}
      onLeft={() => router.push("/messages")}
      backHref="/messages"
      target={target}
    />
  );
}
