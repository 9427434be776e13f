import { describe, expect, it } from "vitest";
import { clientAddress, resolveClientAddress } from "./request-origin";

describe("resolveClientAddress", () => {
  it("with no proxy in front, is the socket's peer whatever the client claims", () => {
    expect(resolveClientAddress("6.6.6.6", "198.51.100.7", 0)).toBe("198.51.100.7");
    expect(resolveClientAddress(undefined, "::1", 0)).toBe("::1");
  });

  it("with trusted proxies, is the address the outermost of them saw", () => {
    // client claims 6.6.6.6; our edge proxy saw 203.0.113.5 and appended it; the socket peer is the proxy.
    expect(resolveClientAddress("6.6.6.6, 203.0.113.5", "10.0.0.2", 1)).toBe("203.0.113.5");
    expect(resolveClientAddress(["6.6.6.6", "203.0.113.5, 10.0.0.9"], "10.0.0.2", 2)).toBe("203.0.113.5");
  });

  it("never walks past the start of the chain", () => {
    expect(resolveClientAddress("203.0.113.5", "10.0.0.2", 5)).toBe("203.0.113.5");
    expect(resolveClientAddress(" , ", undefined, 0)).toBeNull();
  });
});

describe("clientAddress", () => {
  it("reads the address the server resolved", () => {
    expect(clientAddress({ "x-forwarded-for": "203.0.113.5" })).toBe("203.0.113.5");
    expect(clientAddress({})).toBeNull();
  });
});
