"use client";

import { useParams } from "next/navigation";
import { ConversationView } from "~/features/messages/components/conversation-view";
import { useViewer } from "~/features/messages/components/messaging-shell";

export default function ConversationPage() {
  const { conversationId } = useParams<{ conversationId: string }>();
  const viewer = useViewer();
  return (
    <ConversationView
      key={conversationId}
      conversationId={conversationId}
      viewerId={viewer.id}
      maxMessageLength={viewer.maxMessageLength}
    />
  );
}
