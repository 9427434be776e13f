import { describe, expect, it } from "vitest";
import { IMAGE_BOX_MIN, imageBox } from "./image-box";

describe("imageBox", () => {
  it("keeps the aspect ratio within the cap", () => {
    expect(imageBox(1920, 1080)).toEqual({ width: 320, height: 180 });
    expect(imageBox(1080, 1920)).toEqual({ width: 180, height: 320 });
    expect(imageBox(1000, 1000, 200)).toEqual({ width: 200, height: 200 });
  });
  it("never enlarges a small image", () => {
    expect(imageBox(100, 60)).toEqual({ width: 100, height: 60 });
  });
  it("crops a sliver rather than showing it a few pixels thin", () => {
    expect(imageBox(10_000, 100)).toEqual({ width: 320, height: IMAGE_BOX_MIN });
  });
  it("reserves a square when the size is unknown", () => {
    expect(imageBox(null, null)).toEqual({ width: 200, height: 200 });
  });
});
