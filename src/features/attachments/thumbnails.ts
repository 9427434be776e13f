import sharp from "sharp";

// Thumbnails of uploaded images: at most THUMBNAIL_SIZE on the longer side,
// turned upright (EXIF orientation), as WebP, the first frame of an animation.
// sharp decodes from memory (it would buffer a stream whole anyway). At most two
// are made at once, each reading its image only once it has its turn, so
// thumbnails hold at most twice MAX_THUMBNAIL_INPUT_BYTES. Images over that size,
// or over MAX_INPUT_PIXELS, get none: they are kept as files.

export const THUMBNAIL_SIZE = 640;
/** Larger images are kept as files, without a thumbnail or their size. */
export const MAX_THUMBNAIL_INPUT_BYTES = 32 * 1024 * 1024;
/** A decompression bomb (a small file of a billion pixels) is never decoded. */
export const MAX_INPUT_PIXELS = 100_000_000;
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

/** The file is not an image sharp can read. */
export class UnreadableImage extends Error {
  constructor(cause: unknown) {
    super("The file could not be read as an image.", { cause });
    this.name = "UnreadableImage";
  }
}

/**
 * Reads an image (`read`, once it has its turn) and makes its thumbnail: null for
 * one of more than MAX_INPUT_PIXELS (it stays a file); UnreadableImage if it is no
 * image. What `read` throws passes through.
 */
export function makeThumbnail(read: () => Promise<Buffer>): Promise<Thumbnail | null> {
  return withSlot(async () => {
    const image = await read();
    try {
      // The header alone tells the size: a bomb is never decoded.
      const metadata = await sharp(image, { limitInputPixels: false }).metadata();
      if (!metadata.width || !metadata.height) throw new Error("The image has no size.");
      if (metadata.width * metadata.height > MAX_INPUT_PIXELS) return null;
      const webp = await sharp(image, { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error", animated: false })
        .rotate()
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: "inside", withoutEnlargement: true })
        .webp({ quality: 78 })
        .toBuffer();
      const upright = metadata.autoOrient ?? { width: metadata.width, height: metadata.height };
      return { width: upright.width, height: upright.height, webp };
    } catch (error) {
      throw new UnreadableImage(error);
    }
  });
}
