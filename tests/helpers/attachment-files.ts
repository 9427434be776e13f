import { createHash } from "node:crypto";
import sharp from "sharp";

// Files for the attachment tests: bodies streamed as a browser sends them, and images.

/** `bytes` as a request body arriving in chunks. */
export function bodyOf(bytes: Buffer, chunkSize = 16 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(new Uint8Array(bytes.subarray(offset, offset + chunkSize)));
      offset += chunkSize;
    },
  });
}

/** A PNG of one colour. */
export async function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .png()
    .toBuffer();
}

export const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
