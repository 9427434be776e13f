"use client";

import { useParams, useRouter } from "next/navigation";
import { ConversationView } from "~/features/messages/components/conversation-view";
import { useViewer } from "~/features/messages/components/messaging-shell";

export default function ConversationPage() {
  const { conversationId } = useParams<{ conversationId: string }>();
  const viewer = useViewer();
  const router = useRouter();
  return (
    <ConversationView
      key={conversationId}
      conversationId={conversationId}
      viewerId={viewer.id}
      maxMessageLength={viewer.settings.maxMessageLength}
      onLeft={() => router.push("/messages")}
      backHref="/messages"
    />
  );
}
