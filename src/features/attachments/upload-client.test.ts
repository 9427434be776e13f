import { afterEach, describe, expect, it, vi } from "vitest";
import type { Attachment } from "./contracts";
import { deleteAttachment, uploadAttachment, uploadFailure, UploadError } from "./upload-client";

const conversationId = "00000000-0000-4000-8000-0000000000cc";
const attachment: Attachment = {
  id: "00000000-0000-4000-8000-0000000000aa",
  name: "photo 1+1.png",
  contentType: "image/png",
  size: 3,
  width: 10,
  height: 20,
  hasThumbnail: true,
};

/** Just enough of XMLHttpRequest to play the server's part. */
class FakeXhr {
  static last: FakeXhr | undefined;
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: unknown;
  status = 0;
  responseText = "";
  responseHeaders: Record<string, string> = {};
  upload: { onprogress: ((event: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onabort: (() => void) | null = null;
  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  getResponseHeader(name: string) {
    return this.responseHeaders[name] ?? null;
  }
  send(body: unknown) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  respond(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.responseText = typeof body === "string" ? body : JSON.stringify(body);
    this.responseHeaders = headers;
    this.onload?.();
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
});

function start(name = "photo 1+1.png", type = "image/png") {
  vi.stubGlobal("XMLHttpRequest", FakeXhr);
  const progress: number[] = [];
  const file = new Blob(["abc"], { type });
  const task = uploadAttachment({ conversationId, file, name, onProgress: (fraction) => progress.push(fraction) });
  return { task, xhr: FakeXhr.last!, progress, file };
}

describe("uploadAttachment", () => {
  it("posts the raw file with its name in the query, reports progress, and gives the descriptor", async () => {
    const { task, xhr, progress, file } = start();
    expect(xhr.method).toBe("POST");
    expect(xhr.url).toBe(`/api/attachments?conversationId=${conversationId}&name=photo%201%2B1.png`);
    expect(xhr.headers["Content-Type"]).toBe("image/png");
    expect(xhr.body).toBe(file);
    xhr.upload.onprogress?.({ lengthComputable: true, loaded: 1, total: 4 });
    xhr.upload.onprogress?.({ lengthComputable: false, loaded: 2, total: 0 });
    xhr.respond(201, { attachment });
    await expect(task.promise).resolves.toEqual(attachment);
    expect(progress).toEqual([0.25]);
  });

  it("says octet-stream when the browser does not know the type", () => {
    const { xhr } = start("scan", "");
    expect(xhr.headers["Content-Type"]).toBe("application/octet-stream");
  });

  it("passes on the server's refusal as it worded it", async () => {
    const { task, xhr } = start();
    xhr.respond(413, { error: { code: "PAYLOAD_TOO_LARGE", message: "photo 1+1.png is larger than the 5 MB limit." } });
    await expect(task.promise).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      message: "photo 1+1.png is larger than the 5 MB limit.",
      retryable: false,
    });
  });

  it("calls a network failure or a broken answer 'Upload failed', worth a retry", async () => {
    const failed = start();
    failed.xhr.onerror?.();
    await expect(failed.task.promise).rejects.toMatchObject({ code: "NETWORK", message: "Upload failed", retryable: true });
    const garbled = start();
    garbled.xhr.respond(201, "<html>");
    await expect(garbled.task.promise).rejects.toMatchObject({ code: "NETWORK" });
  });

  it("can be cancelled", async () => {
    const { task } = start();
    task.abort();
    await expect(task.promise).rejects.toMatchObject({ code: "ABORTED" });
  });
});

describe("uploadFailure", () => {
  it("treats 5xx as a failure to retry", () => {
    expect(uploadFailure(503, "", null, "a.png")).toMatchObject({ code: "NETWORK", message: "Upload failed" });
  });
  it("keeps the server's Retry-After on a rate limit", () => {
    const error = uploadFailure(429, JSON.stringify({ error: { code: "TOO_MANY_REQUESTS", message: "Slow down." } }), "3", "a.png");
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ code: "TOO_MANY_REQUESTS", message: "Slow down.", retryAfterMs: 3000, retryable: true });
  });
  it("words a proxy's bare 413 itself", () => {
    expect(uploadFailure(413, "<html>Request Entity Too Large</html>", null, "big.mov")).toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      message: "big.mov is too large to upload.",
    });
  });
});

describe("deleteAttachment", () => {
  it("asks the server to drop the file and ignores a failure", async () => {
    const fetchMock = vi.fn().mockRejectedValue(new Error("offline"));
    vi.stubGlobal("fetch", fetchMock);
    deleteAttachment(attachment.id);
    expect(fetchMock).toHaveBeenCalledWith(`/api/attachments/${attachment.id}`, { method: "DELETE", keepalive: true });
    await Promise.resolve();
  });
});
