import Link from "next/link";
import { MessagesSquareIcon } from "lucide-react";

/** The product's name and mark, linking home. */
export function AppBrand({ href = "/" }: { href?: string }) {
  return (
    <Link href={href} className="flex items-center gap-2 font-semibold">
      <MessagesSquareIcon className="size-5" aria-hidden="true" />
      Chatline
    </Link>
  );
}
