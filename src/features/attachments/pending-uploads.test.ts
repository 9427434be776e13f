import { describe, expect, it } from "vitest";
import type { Attachment } from "./contracts";
import { PendingUploads } from "./pending-uploads";
import { UploadError, type UploadRequest } from "./upload-client";

const conversationId = "00000000-0000-4000-8000-0000000000cc";

function descriptor(name: string, index: number): Attachment {
  return {
    id: `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`,
    name,
    contentType: "image/png",
    size: 3,
    width: 1,
    height: 1,
    hasThumbnail: true,
  };
}

/** Uploads that finish when the test says so. */
function setup(max?: number) {
  const calls: { request: UploadRequest; resolve(a: Attachment): void; reject(e: unknown): void; aborted: boolean }[] = [];
  const sent: { content: string; names: string[] }[] = [];
  const discarded: string[] = [];
  const revoked: string[] = [];
  const stopped: string[] = [];
  let ids = 0;
  const store = new PendingUploads({
    conversationId,
    upload(request) {
      let resolve!: (a: Attachment) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<Attachment>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const call = { request, resolve, reject, aborted: false };
      calls.push(call);
      return {
        promise,
        abort() {
          call.aborted = true;
          reject(new UploadError("Upload cancelled", "ABORTED"));
        },
      };
    },
    discard: (attachment) => discarded.push(attachment.name),
    send: (content, attachments) => sent.push({ content, names: attachments.map((a) => a.name) }),
    onWaitStopped: (reason) => stopped.push(reason),
    createPreview: (file) => `blob:${(file as File).name ?? "x"}-${ids}`,
    revokePreview: (url) => revoked.push(url),
    newId: () => `local-${++ids}`,
    ...(max === undefined ? {} : { max }),
  });
  const add = (...names: string[]) => store.add(names.map((name) => ({ file: new Blob(["abc"], { type: "image/png" }), name })));
  const finish = async (index: number) => {
    calls[index]!.resolve(descriptor(calls[index]!.request.name, index));
    await Promise.resolve();
    await Promise.resolve();
  };
  const fail = async (index: number, error: unknown = new UploadError("Upload failed", "NETWORK")) => {
    calls[index]!.reject(error);
    await Promise.resolve();
    await Promise.resolve();
  };
  const states = () => store.getSnapshot().uploads.map((upload) => `${upload.name}:${upload.state}`);
  return { store, calls, sent, discarded, revoked, stopped, add, finish, fail, states };
}

describe("the composer's uploads", () => {
  it("starts each file's upload as it is added and follows its progress", async () => {
    const { store, calls, add, finish, states } = setup();
    add("a.png", "b.png");
    expect(calls.map((call) => [call.request.name, call.request.conversationId])).toEqual([
      ["a.png", conversationId],
      ["b.png", conversationId],
    ]);
    calls[0]!.request.onProgress?.(0.5);
    expect(store.getSnapshot().uploads[0]).toMatchObject({ progress: 0.5, state: "uploading", previewUrl: expect.stringMatching(/^blob:/) });
    await finish(0);
    expect(states()).toEqual(["a.png:done", "b.png:uploading"]);
    expect(store.getSnapshot().uploads[0]!.attachment?.name).toBe("a.png");
  });

  it("refuses files beyond the per-message limit", () => {
    const { add, states } = setup(2);
    expect(add("a.png", "b.png", "c.png")).toEqual({ added: 2, refused: 1 });
    expect(add("d.png")).toEqual({ added: 0, refused: 1 });
    expect(states()).toEqual(["a.png:uploading", "b.png:uploading"]);
  });

  it("sends at once when every file is uploaded, with the files in order, and empties the composer", async () => {
    const { store, add, finish, sent, revoked } = setup();
    add("a.png", "b.png");
    await finish(1);
    await finish(0);
    expect(store.requestSend("look")).toBe("sent");
    expect(sent).toEqual([{ content: "look", names: ["a.png", "b.png"] }]);
    expect(store.getSnapshot()).toMatchObject({ uploads: [], waiting: null, sent: 1 });
    expect(revoked).toHaveLength(2);
  });

  it("sends text alone, and nothing when there is nothing", () => {
    const { store, sent } = setup();
    expect(store.requestSend("")).toBe("empty");
    expect(store.requestSend("hi")).toBe("sent");
    expect(sent).toEqual([{ content: "hi", names: [] }]);
  });

  it("waits for uploads still going, then sends by itself (files without text too)", async () => {
    const { store, add, finish, sent } = setup();
    add("a.png", "b.png");
    await finish(0);
    expect(store.requestSend("")).toBe("waiting");
    expect(store.getSnapshot().waiting).toEqual({ content: "" });
    expect(sent).toEqual([]);
    await finish(1);
    expect(sent).toEqual([{ content: "", names: ["a.png", "b.png"] }]);
    expect(store.getSnapshot()).toMatchObject({ uploads: [], waiting: null, sent: 1 });
  });

  it("stops waiting when asked, and keeps the files", async () => {
    const { store, add, finish, sent, states } = setup();
    add("a.png");
    store.requestSend("hello");
    store.cancelWait();
    await finish(0);
    expect(sent).toEqual([]);
    expect(states()).toEqual(["a.png:done"]);
  });

  it("holds a send back while an upload has failed, until it is retried or removed", async () => {
    const { store, calls, add, finish, fail, sent, states } = setup();
    add("a.png", "b.png");
    await finish(0);
    await fail(1);
    expect(states()).toEqual(["a.png:done", "b.png:failed"]);
    expect(store.getSnapshot().uploads[1]).toMatchObject({ error: "Upload failed", retryable: true });
    expect(store.requestSend("x")).toBe("blocked");

    store.retry("local-2");
    expect(calls).toHaveLength(3);
    expect(states()).toEqual(["a.png:done", "b.png:uploading"]);
    expect(store.requestSend("x")).toBe("waiting");
    await finish(2);
    expect(sent).toEqual([{ content: "x", names: ["a.png", "b.png"] }]);
  });

  it("stops a waiting send when an upload fails, and says why", async () => {
    const { store, add, fail, sent, stopped } = setup();
    add("big.png");
    store.requestSend("see this");
    await fail(0, new UploadError("big.png is larger than the 5 MB limit.", "PAYLOAD_TOO_LARGE"));
    expect(store.getSnapshot().waiting).toBeNull();
    expect(store.getSnapshot().uploads[0]).toMatchObject({ state: "failed", retryable: false });
    expect(stopped).toEqual(["big.png: big.png is larger than the 5 MB limit."]);
    expect(sent).toEqual([]);
  });

  it("cancels an upload in progress: aborted, gone, and a waiting send goes on without it", async () => {
    const { store, calls, add, finish, sent, discarded, revoked } = setup();
    add("a.png", "b.png");
    await finish(0);
    store.requestSend("text");
    store.remove("local-2");
    expect(calls[1]!.aborted).toBe(true);
    expect(discarded).toEqual([]);
    // Both previews are let go: the cancelled file's, then the sent one's.
    expect(revoked).toEqual(["blob:x-1", "blob:x-0"]);
    expect(sent).toEqual([{ content: "text", names: ["a.png"] }]);
  });

  it("takes an uploaded file back from the server when it is removed before sending", async () => {
    const { store, add, finish, discarded, states } = setup();
    add("a.png", "b.png");
    await finish(0);
    store.remove("local-1");
    expect(discarded).toEqual(["a.png"]);
    expect(states()).toEqual(["b.png:uploading"]);
  });

  it("a send waiting on its only file, with no text, is dropped when the file is", async () => {
    const { store, add, sent } = setup();
    add("a.png");
    store.requestSend("");
    store.remove("local-1");
    expect(store.getSnapshot().waiting).toBeNull();
    expect(sent).toEqual([]);
  });

  it("ignores what an upload says after it was cancelled or retried", async () => {
    const { store, calls, add, fail, states } = setup();
    add("a.png");
    await fail(0);
    store.retry("local-1");
    // The first attempt's late progress is not the new one's.
    calls[0]!.request.onProgress?.(0.9);
    expect(store.getSnapshot().uploads[0]!.progress).toBe(0);
    expect(states()).toEqual(["a.png:uploading"]);
  });
});
