import { attachmentRouteDeps, handleUpload } from "~/features/attachments/attachment-routes";

// Uploads stream through here into the attachment storage (attachment-routes.ts).
export const dynamic = "force-dynamic";

export function POST(request: Request) {
  return handleUpload(request, attachmentRouteDeps());
}
