/** The largest an image shows in a message (CSS pixels, each side); smaller when a message has several. */
export const IMAGE_BOX_MAX = 320;
export const IMAGE_BOX_MAX_IN_GRID = 200;
/** Narrower than this a very long image would be a sliver: it is cropped to this instead. */
export const IMAGE_BOX_MIN = 48;

/**
 * The box an image of `width`×`height` takes in a message: its aspect ratio, at most
 * `max` on either side, never upscaled, and at least `IMAGE_BOX_MIN` on either side
 * (a panorama is cropped). Known before the image loads, so the timeline does not jump.
 */
export function imageBox(width: number | null, height: number | null, max = IMAGE_BOX_MAX): { width: number; height: number } {
  if (!width || !height) return { width: Math.min(max, 200), height: Math.min(max, 200) };
  const scale = Math.min(1, max / width, max / height);
  const clamp = (value: number) => Math.max(Math.min(IMAGE_BOX_MIN, max), Math.round(value * scale));
  return { width: clamp(width), height: clamp(height) };
}
