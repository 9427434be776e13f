import { describe, expect, it } from "vitest";
import { reconnectDelayMs } from "./shared";

describe("reconnectDelayMs", () => {
  it("backs off exponentially with jitter and a 30 s ceiling", () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(30_000, 500 * 2 ** attempt);
      for (let sample = 0; sample < 50; sample++) {
        const delay = reconnectDelayMs(attempt);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});
