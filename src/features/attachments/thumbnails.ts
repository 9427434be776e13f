import type { Readable } from "node:stream";
import sharp from "sharp";

// Thumbnails of uploaded images: at most THUMBNAIL_SIZE on the longer side,
// turned upright (EXIF orientation), as WebP, the first frame of an animation.
// sharp holds the encoded image while it decodes it, so at most two run at once
// (their memory is bounded by the settings' file size and by MAX_INPUT_PIXELS).

export const THUMBNAIL_SIZE = 640;
/** A decompression bomb (a small file of a billion pixels) is refused instead of decoded. */
const MAX_INPUT_PIXELS = 100_000_000;
const MAX_CONCURRENT = 2;

let running = 0;
const waiting: (() => void)[] = [];

async function withSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
  running += 1;
  try {
    return await work();
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

export interface Thumbnail {
  /** The image's own size, upright. */
  width: number;
  height: number;
  webp: Buffer;
}

/** Reads an image and makes its thumbnail; rejects if it is not a readable image. */
export function makeThumbnail(image: Readable): Promise<Thumbnail> {
  return withSlot(async () => {
    const decoder = sharp({ limitInputPixels: MAX_INPUT_PIXELS, failOn: "error", animated: false });
    image.once("error", (error) => decoder.destroy(error));
    image.pipe(decoder);
    const [metadata, webp] = await Promise.all([
      decoder.clone().metadata(),
      decoder
        .clone()
        .rotate()
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: "inside", withoutEnlargement: true })
        .webp({ quality: 78 })
        .toBuffer(),
    ]);
    const upright = metadata.autoOrient ?? { width: metadata.width, height: metadata.height };
    if (!upright.width || !upright.height) throw new Error("The image has no size.");
    return { width: upright.width, height: upright.height, webp };
  });
}
