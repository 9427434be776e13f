import { MessagesSquareIcon } from "lucide-react";

export default function MessagesHomePage() {
  return (
    <div className="text-muted-foreground m-auto grid justify-items-center gap-2 p-6 text-center">
      <MessagesSquareIcon className="size-10" aria-hidden="true" />
      <h1 className="text-foreground text-lg font-semibold">Your messages</h1>
      <p className="text-sm">Pick a conversation, or start a new one.</p>
    </div>
  );
}
