import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { cleanFileName, sniffContentType } from "./content-sniffing";

const text = (value: string) => new TextEncoder().encode(value);

describe("sniffContentType", () => {
  it("knows binary formats by their bytes, whatever the name says", async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#fff" } }).png().toBuffer();
    expect(await sniffContentType(png, true, "photo.pdf")).toBe("image/png");
    expect(await sniffContentType(text("%PDF-1.7\n%\xE2\xE3\n1 0 obj\n"), false, "x.png")).toBe("application/pdf");
  });

  it("calls markup markup, even named as an image or as text", async () => {
    expect(await sniffContentType(text("<!DOCTYPE html><p>hi"), true, "cat.png")).toBe("text/html");
    expect(await sniffContentType(text("\uFEFF  <script>alert(1)</script>"), true, "notes.txt")).toBe("text/html");
    expect(await sniffContentType(text('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), true, "a.png")).toBe("image/svg+xml");
    expect(await sniffContentType(text('<?xml version="1.0"?><svg onload="x()"></svg>'), true, "a.png")).toBe("image/svg+xml");
    expect(await sniffContentType(text('<?xml version="1.0"?><note/>'), true, "a.xml")).toBe("application/xml");
  });

  it("tells text from binary, and refines text by extension only", async () => {
    expect(await sniffContentType(text("Grüße, 你好 🙂\n"), true, "hello.txt")).toBe("text/plain");
    expect(await sniffContentType(text("a,b\n1,2\n"), true, "data.csv")).toBe("text/csv");
    expect(await sniffContentType(text("a,b\n1,2\n"), true, "data.exe")).toBe("text/plain");
    expect(await sniffContentType(new Uint8Array([1, 2, 0, 4, 250, 251]), true, "x.txt")).toBe("application/octet-stream");
    expect(await sniffContentType(new Uint8Array([0xc3, 0x28]), true, "x.txt")).toBe("application/octet-stream");
    expect(await sniffContentType(new Uint8Array(), true, "empty.txt")).toBe("application/octet-stream");
  });

  it("does not mistake a head cut inside a character for binary", async () => {
    const bytes = text("é".repeat(10));
    expect(await sniffContentType(bytes.subarray(0, 5), false, "cut.txt")).toBe("text/plain");
    expect(await sniffContentType(bytes.subarray(0, 5), true, "cut.txt")).toBe("application/octet-stream");
  });
});

describe("cleanFileName", () => {
  it("keeps the last path segment without control or direction-override characters", () => {
    expect(cleanFileName("C:\\Users\\me\\report.pdf", 200)).toBe("report.pdf");
    expect(cleanFileName("../../etc/passwd", 200)).toBe("passwd");
    expect(cleanFileName("evil\u202Etxt.exe", 200)).toBe("eviltxt.exe");
    expect(cleanFileName("  ..hidden  name.txt ", 200)).toBe("hidden name.txt");
    expect(cleanFileName("\u0000\u0001", 200)).toBe("file");
  });

  it("shortens a long name and keeps its extension, never cutting an emoji", () => {
    const name = cleanFileName(`${"🙂".repeat(300)}.jpeg`, 50);
    expect(name.endsWith("….jpeg")).toBe(true);
    expect(name).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
