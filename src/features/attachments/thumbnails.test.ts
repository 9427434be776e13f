import { crc32 } from "node:zlib";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { makeThumbnail, MAX_INPUT_PIXELS, UnreadableImage } from "./thumbnails";

/** A PNG whose header claims `width`×`height` (its pixel data is a 2×2 image's: a bomb's shape, cheaply). */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 2, height: 2, channels: 3, background: "#fff" } }).png().toBuffer());
  // IHDR: length (4) and type (4) at byte 8, then width and height, then 5 more bytes, then its CRC.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

describe("makeThumbnail", () => {
  it("makes a WebP of at most 640 px and gives the image's size", async () => {
    const image = await sharp({ create: { width: 1200, height: 300, channels: 3, background: "#08f" } }).jpeg().toBuffer();
    const thumbnail = await makeThumbnail(async () => image);
    expect(thumbnail).toMatchObject({ width: 1200, height: 300 });
    expect(await sharp(thumbnail!.webp).metadata()).toMatchObject({ format: "webp", width: 640, height: 160 });
  });

  it("keeps an image of more pixels than it decodes as a file, reading only its header", async () => {
    const bomb = await pngClaiming(20_000, 20_000);
    expect(20_000 * 20_000).toBeGreaterThan(MAX_INPUT_PIXELS);
    expect(await makeThumbnail(async () => bomb)).toBeNull();
  });

  it("says a file that is no image is unreadable, and passes a read failure through", async () => {
    await expect(makeThumbnail(async () => Buffer.from("definitely not an image"))).rejects.toBeInstanceOf(UnreadableImage);
    const lost = new Error("the storage reset the connection");
    await expect(makeThumbnail(async () => Promise.reject(lost))).rejects.toBe(lost);
    // The failures gave their turns back: the next thumbnails are made.
    const image = await sharp({ create: { width: 10, height: 10, channels: 3, background: "#000" } }).png().toBuffer();
    const made = await Promise.all([1, 2, 3].map(() => makeThumbnail(async () => image)));
    expect(made.every((thumbnail) => thumbnail?.width === 10)).toBe(true);
  });
});
