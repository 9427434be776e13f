import { describe, expect, it } from "vitest";
import { fileNameFromDisposition, userExportUrl } from "./download-export";

describe("fileNameFromDisposition", () => {
  it("reads the name the export endpoint sends", () => {
    expect(fileNameFromDisposition('attachment; filename="chatline-export-2026-11-22.json"')).toBe("chatline-export-2026-11-22.json");
    expect(fileNameFromDisposition('attachment; filename="chatline-export-ana-example-com-2026-11-22.json"')).toBe(
      "chatline-export-ana-example-com-2026-11-22.json",
    );
  });

  it("prefers filename* and takes unquoted or escaped names", () => {
    expect(fileNameFromDisposition("attachment; filename=\"plain.json\"; filename*=UTF-8''d%C3%A9j%C3%A0.json")).toBe("déjà.json");
    expect(fileNameFromDisposition("attachment; filename=plain.json")).toBe("plain.json");
    expect(fileNameFromDisposition('attachment; filename="say \\"hi\\".json"')).toBe('say "hi".json');
    // A broken filename* falls back to filename.
    expect(fileNameFromDisposition("attachment; filename*=UTF-8''%E0%A4%A; filename=\"ok.json\"")).toBe("ok.json");
  });

  it("keeps no path and gives null without a name", () => {
    expect(fileNameFromDisposition('attachment; filename="../../etc/passwd"')).toBe("passwd");
    expect(fileNameFromDisposition('attachment; filename="C:\\\\x\\\\y.json"')).toBe("y.json");
    expect(fileNameFromDisposition("attachment")).toBeNull();
    expect(fileNameFromDisposition('attachment; filename=""')).toBeNull();
    expect(fileNameFromDisposition(null)).toBeNull();
  });
});

describe("userExportUrl", () => {
  it("asks for one person's export", () => {
    expect(userExportUrl("7f0c1c9e-0000-4000-8000-000000000000")).toBe("/api/export?userId=7f0c1c9e-0000-4000-8000-000000000000");
  });
});
