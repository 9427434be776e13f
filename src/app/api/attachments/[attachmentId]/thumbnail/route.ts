import { attachmentRouteDeps, handleDownload } from "~/features/attachments/attachment-routes";

export const dynamic = "force-dynamic";

export async function GET(request: Request, { params }: { params: Promise<{ attachmentId: string }> }) {
  return handleDownload(request, attachmentRouteDeps(), (await params).attachmentId, "thumbnail");
}
