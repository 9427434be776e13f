import { describe, expect, it } from "vitest";
import { describeFileType, pastedFileName, summarizeAttachments } from "./file-labels";

describe("describeFileType", () => {
  it("names well-known types", () => {
    expect(describeFileType("report.pdf", "application/pdf")).toEqual({ label: "PDF", kind: "pdf" });
    expect(describeFileType("notes.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document").label).toBe("Word document");
    expect(describeFileType("data.csv", "text/csv; charset=utf-8")).toEqual({ label: "CSV", kind: "spreadsheet" });
  });
  it("names images by format and other families by extension", () => {
    expect(describeFileType("photo.jpg", "image/jpeg")).toEqual({ label: "JPEG image", kind: "image" });
    expect(describeFileType("photo.heic", "image/heic")).toEqual({ label: "HEIC image", kind: "image" });
    expect(describeFileType("clip.mov", "video/quicktime")).toEqual({ label: "MOV video", kind: "video" });
    expect(describeFileType("song", "audio/mpeg")).toEqual({ label: "Audio", kind: "audio" });
  });
  it("falls back to the extension, then to File", () => {
    expect(describeFileType("plan.dwg", "application/octet-stream")).toEqual({ label: "DWG", kind: "other" });
    expect(describeFileType("README", "application/octet-stream")).toEqual({ label: "File", kind: "other" });
    expect(describeFileType(".bashrc", "")).toEqual({ label: "File", kind: "other" });
  });
});

describe("pastedFileName", () => {
  const at = new Date(2026, 11, 6, 14, 5);
  it("gives a pasted screenshot a name that tells it apart", () => {
    expect(pastedFileName("image.png", "image/png", at)).toBe("Pasted image 2026-12-06 14-05.png");
    expect(pastedFileName("", "image/jpeg", at)).toBe("Pasted image 2026-12-06 14-05.jpg");
    expect(pastedFileName("image", "image/webp", at)).toBe("Pasted image 2026-12-06 14-05.webp");
  });
  it("keeps a pasted file's real name", () => {
    expect(pastedFileName("budget.xlsx", "application/vnd.ms-excel", at)).toBe("budget.xlsx");
    expect(pastedFileName("image of the cat.png", "image/png", at)).toBe("image of the cat.png");
  });
});

describe("summarizeAttachments", () => {
  it("counts images and files", () => {
    expect(summarizeAttachments([])).toBe("");
    expect(summarizeAttachments([{ contentType: "image/png" }])).toBe("1 image");
    expect(summarizeAttachments([{ contentType: "image/png" }, { contentType: "application/pdf" }])).toBe("2 files");
  });
});
