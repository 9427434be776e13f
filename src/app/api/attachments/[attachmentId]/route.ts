import { attachmentRouteDeps, handleDiscard, handleDownload } from "~/features/attachments/attachment-routes";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ attachmentId: string }> };

export async function GET(request: Request, { params }: Params) {
  return handleDownload(request, attachmentRouteDeps(), (await params).attachmentId, "file");
}

export async function DELETE(request: Request, { params }: Params) {
  return handleDiscard(request, attachmentRouteDeps(), (await params).attachmentId);
}
