import sharp from "sharp";

// Thumbnails of uploaded images: at most THUMBNAIL_SIZE on the longer side,
// turned upright (EXIF orientation), as WebP, the first frame of an animation.
// sharp decodes from memory (it would buffer a stream whole anyway), so images
// over MAX_THUMBNAIL_INPUT_BYTES get none (they are shown as files), and at most
// two are made at once: thumbnails hold at most twice that.

export const THUMBNAIL_SIZE = 640;
/** Larger images are kept as files, without a thumbnail or their size. */
export const MAX_THUMBNAIL_INPUT_BYTES = 32 * 1024 * 1024;
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

/** Makes the thumbnail of an image; rejects if it is not a readable image. */
export function makeThumbnail(image: Buffer): Promise<Thumbnail> {
  return withSlot(async () => {
    const decoder = sharp(image, { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error", animated: false });
    const [metadata, webp] = await Promise.all([
      decoder.metadata(),
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
