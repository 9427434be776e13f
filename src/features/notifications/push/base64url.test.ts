import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { uint8ArrayToUrlBase64, urlBase64ToUint8Array } from "./base64url";

describe("URL-safe base64", () => {
  it("decodes what Node encodes, for every length and the characters that differ from base64", () => {
    for (let length = 0; length <= 70; length++) {
      const bytes = randomBytes(length);
      const text = bytes.toString("base64url");
      expect(Buffer.from(urlBase64ToUint8Array(text))).toEqual(bytes);
      expect(uint8ArrayToUrlBase64(bytes)).toBe(text);
    }
    // 0xfb 0xff: "+/" in base64, "-_" here.
    expect(Array.from(urlBase64ToUint8Array("-_8"))).toEqual([0xfb, 0xff]);
    expect(uint8ArrayToUrlBase64(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
  });

  it("accepts padding and an ArrayBuffer (a subscription's applicationServerKey)", () => {
    expect(Array.from(urlBase64ToUint8Array("AQ=="))).toEqual([1]);
    expect(uint8ArrayToUrlBase64(new Uint8Array([1, 2, 3, 4]).buffer)).toBe("AQIDBA");
  });

  it("decodes a VAPID public key to its 65-byte uncompressed point", () => {
    const key = Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString("base64url");
    const bytes = urlBase64ToUint8Array(key);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBe(65);
    expect(bytes[0]).toBe(4);
  });

  it("refuses standard base64 and other text rather than guessing", () => {
    for (const bad of ["a+b/", "has space", "A", "AQ===", "ä"]) expect(() => urlBase64ToUint8Array(bad)).toThrow(/base64/);
  });
});
