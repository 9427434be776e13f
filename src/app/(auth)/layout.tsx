import { MessagesSquareIcon } from "lucide-react";
import type { ReactNode } from "react";

export default function AuthLayout({ children }: Readonly<{ children: ReactNode }>) {
  return (
    <div className="bg-muted/40 flex min-h-svh flex-col items-center justify-center gap-6 p-6">
      <header className="flex items-center gap-2 text-lg font-semibold">
        <MessagesSquareIcon className="size-6" aria-hidden="true" />
        Chatline
      </header>
      <main className="w-full max-w-sm">{children}</main>
    </div>
  );
}
