import { describe, expect, it } from "vitest";
import { clientAddress } from "./request-origin";

describe("clientAddress", () => {
  it("takes the hop closest to us from X-Forwarded-For, not what the client claimed", () => {
    expect(clientAddress({ "x-forwarded-for": "6.6.6.6, 10.0.0.7" }, "127.0.0.1")).toBe("10.0.0.7");
    expect(clientAddress({ "x-forwarded-for": ["1.1.1.1", "2.2.2.2"] }, null)).toBe("2.2.2.2");
  });

  it("falls back to the socket address", () => {
    expect(clientAddress({}, "::1")).toBe("::1");
    expect(clientAddress({ "x-forwarded-for": " , " }, undefined)).toBeNull();
  });
});
