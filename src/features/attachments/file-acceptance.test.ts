import { describe, expect, it } from "vitest";
import { acceptAttribute, checkFile, formatSizeLimit, isFileTypeAllowed, type AttachmentSettings } from "./file-acceptance";

const MB = 1024 * 1024;
const settings: AttachmentSettings = { allowFileAttachments: true, maxFileSize: 5 * MB, allowedFileTypes: ["image/*", "application/pdf"] };

describe("checkFile", () => {
  it("accepts a file of an allowed type within the limit", () => {
    expect(checkFile({ name: "photo.png", size: 5 * MB, type: "image/png" }, settings)).toEqual({ ok: true });
    expect(checkFile({ name: "report.pdf", size: 10, type: "application/pdf" }, settings)).toEqual({ ok: true });
  });

  it("refuses a file larger than the limit, naming it and the limit as people write it", () => {
    expect(checkFile({ name: "photo.png", size: 5 * MB + 1, type: "image/png" }, settings)).toEqual({
      ok: false,
      reason: "photo.png is larger than the 5 MB limit.",
    });
    expect(checkFile({ name: "a.pdf", size: 2 * MB, type: "application/pdf" }, { ...settings, maxFileSize: 1.5 * MB })).toEqual({
      ok: false,
      reason: "a.pdf is larger than the 1.5 MB limit.",
    });
  });

  it("refuses a declared type that is not allowed", () => {
    expect(checkFile({ name: "setup.exe", size: 10, type: "application/x-msdownload" }, settings)).toEqual({
      ok: false,
      reason: "setup.exe is a file of type application/x-msdownload, which is not allowed here. Allowed: image/*, application/pdf.",
    });
  });

  it("leaves a file whose type the browser does not know to the server, which sniffs it", () => {
    expect(checkFile({ name: "scan", size: 10, type: "" }, settings)).toEqual({ ok: true });
    expect(checkFile({ name: "scan.bin", size: 10, type: "application/octet-stream" }, settings)).toEqual({ ok: true });
    // The size still counts.
    expect(checkFile({ name: "scan", size: 6 * MB, type: "" }, settings).ok).toBe(false);
  });

  it("knows the other names browsers give common types", () => {
    const zips = { ...settings, allowedFileTypes: ["application/zip"] };
    expect(checkFile({ name: "a.zip", size: 10, type: "application/x-zip-compressed" }, zips)).toEqual({ ok: true });
    expect(checkFile({ name: "a.jpg", size: 10, type: "image/jpg" }, { ...settings, allowedFileTypes: ["image/jpeg"] })).toEqual({ ok: true });
    // Windows calls a .csv an Excel file: the server's sniffing decides.
    expect(checkFile({ name: "a.csv", size: 10, type: "application/vnd.ms-excel" }, { ...settings, allowedFileTypes: ["text/csv"] })).toEqual({ ok: true });
  });

  it("refuses everything when attachments are off", () => {
    expect(checkFile({ name: "photo.png", size: 1, type: "image/png" }, { ...settings, allowFileAttachments: false })).toEqual({
      ok: false,
      reason: "File attachments are turned off by an administrator.",
    });
  });
});

describe("isFileTypeAllowed", () => {
  it("matches exact types and families, ignoring case and parameters", () => {
    expect(isFileTypeAllowed("IMAGE/JPEG", ["image/*"])).toBe(true);
    expect(isFileTypeAllowed("text/plain; charset=utf-8", ["text/plain"])).toBe(true);
    expect(isFileTypeAllowed("application/pdf", ["image/*"])).toBe(false);
    // A family is not a prefix of another family's name.
    expect(isFileTypeAllowed("imagex/png", ["image/*"])).toBe(false);
  });
});

describe("formatSizeLimit and acceptAttribute", () => {
  it("writes limits without a needless decimal", () => {
    expect(formatSizeLimit(5 * MB)).toBe("5 MB");
    expect(formatSizeLimit(100 * MB)).toBe("100 MB");
    expect(formatSizeLimit(512 * 1024)).toBe("512 KB");
  });
  it("gives the picker the allowed types", () => {
    expect(acceptAttribute(["image/*", "application/pdf"])).toBe("image/*,application/pdf");
  });
});
