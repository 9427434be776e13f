import { describe, expect, it, vi } from "vitest";
import type { Message } from "./contracts";
import type { Attachment } from "~/features/attachments/contracts";
import { attachmentIdsOf, OutboxRunner, OutboxStore, type OutboxEntry, type SendFailure } from "./outbox";

class MemoryStorage {
  data = new Map<string, string>();
  getItem(key: string) {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.data.set(key, value);
  }
}

const conversationId = "00000000-0000-4000-8000-0000000000cc";
const sent = (entry: OutboxEntry, seq: number) => ({ id: entry.clientMessageId, seq, content: entry.content }) as unknown as Message;
const OFFLINE = new Error("offline");
const classify = (error: unknown): SendFailure =>
  error === OFFLINE ? { kind: "retry" } : { kind: "refused", message: (error as Error).message };

function setup(send: (entry: OutboxEntry) => Promise<Message>) {
  const storage = new MemoryStorage();
  const store = new OutboxStore(storage, "outbox");
  const delivered: string[] = [];
  const refused: string[] = [];
  const runner = new OutboxRunner({
    store,
    send,
    classify,
    onSent: (entry) => delivered.push(entry.content),
    onRefused: (entry, message) => refused.push(`${entry.content}: ${message}`),
    backoffMs: [10],
    sendTimeoutMs: 100,
  });
  return { storage, store, runner, delivered, refused };
}

describe("the outbox", () => {
  it("survives a reload: entries are read back from storage", () => {
    const storage = new MemoryStorage();
    new OutboxStore(storage, "outbox").add({ clientMessageId: "a", conversationId, content: "first" });
    const reloaded = new OutboxStore(storage, "outbox");
    expect(reloaded.getSnapshot()).toMatchObject([{ clientMessageId: "a", content: "first", state: "sending" }]);
  });

  it("keeps a message's files across a reload and sends their ids, like its text", async () => {
    const photo: Attachment = {
      id: "00000000-0000-4000-8000-0000000000a1",
      name: "photo.png",
      contentType: "image/png",
      size: 1234,
      width: 640,
      height: 480,
      hasThumbnail: true,
    };
    const storage = new MemoryStorage();
    new OutboxStore(storage, "outbox").add({ clientMessageId: "a", conversationId, content: "", attachments: [photo] });
    const store = new OutboxStore(storage, "outbox");
    expect(store.getSnapshot()).toMatchObject([{ clientMessageId: "a", content: "", attachments: [photo], state: "sending" }]);

    const sentIds: string[][] = [];
    let online = false;
    const runner = new OutboxRunner({
      store,
      send: async (entry) => {
        sentIds.push(attachmentIdsOf(entry));
        if (!online) throw OFFLINE;
        return sent(entry, 1);
      },
      classify,
      onSent: () => undefined,
      onRefused: () => undefined,
      backoffMs: [10],
    });
    runner.kick();
    await vi.waitFor(() => expect(sentIds.length).toBeGreaterThanOrEqual(1));
    online = true;
    runner.kick();
    await vi.waitFor(() => expect(store.getSnapshot()).toEqual([]));
    // Every attempt, the retry included, names the same files.
    expect(new Set(sentIds.map((ids) => ids.join()))).toEqual(new Set([photo.id]));
    runner.stop();
  });

  it("reads entries stored before messages had files as messages without files", () => {
    const storage = new MemoryStorage();
    storage.setItem("outbox", JSON.stringify([{ clientMessageId: "old", conversationId, content: "hi", createdAt: 1, state: "failed", error: "No." }]));
    const [entry] = new OutboxStore(storage, "outbox").getSnapshot();
    expect(entry).toMatchObject({ clientMessageId: "old", content: "hi", state: "failed" });
    expect(attachmentIdsOf(entry!)).toEqual([]);
  });

  it("ignores storage it cannot read", () => {
    const storage = new MemoryStorage();
    storage.setItem("outbox", "{not json");
    expect(new OutboxStore(storage, "outbox").getSnapshot()).toEqual([]);
  });

  it("sends one at a time in the order written, and retries while offline without reordering", async () => {
    let online = false;
    const attempts: string[] = [];
    let seq = 0;
    const { store, runner, delivered } = setup(async (entry) => {
      attempts.push(entry.content);
      if (!online) throw OFFLINE;
      return sent(entry, ++seq);
    });
    store.add({ clientMessageId: "a", conversationId, content: "one" });
    store.add({ clientMessageId: "b", conversationId, content: "two" });
    runner.kick();
    await vi.waitFor(() => expect(attempts.length).toBeGreaterThanOrEqual(2));
    // While offline only the first is tried, again and again.
    expect(new Set(attempts)).toEqual(new Set(["one"]));
    online = true;
    runner.kick();
    await vi.waitFor(() => expect(delivered).toEqual(["one", "two"]));
    expect(store.getSnapshot()).toEqual([]);
    runner.stop();
  });

  it("marks a refused message failed, goes on with the next, and sends it again on retry", async () => {
    let refuse = true;
    const { store, runner, delivered, refused } = setup(async (entry) => {
      if (entry.content === "too long" && refuse) throw new Error("Messages are at most 10 characters.");
      return sent(entry, 1);
    });
    store.add({ clientMessageId: "a", conversationId, content: "too long" });
    store.add({ clientMessageId: "b", conversationId, content: "ok" });
    runner.kick();
    await vi.waitFor(() => expect(delivered).toEqual(["ok"]));
    expect(refused).toEqual(["too long: Messages are at most 10 characters."]);
    expect(store.getSnapshot()).toMatchObject([{ clientMessageId: "a", state: "failed", error: "Messages are at most 10 characters." }]);

    refuse = false;
    store.retry("a");
    runner.kick();
    await vi.waitFor(() => expect(delivered).toEqual(["ok", "too long"]));
    expect(store.getSnapshot()).toEqual([]);
  });

  it("keeps the same clientMessageId on every attempt, so the server can drop doubles", async () => {
    const ids: string[] = [];
    let calls = 0;
    const { store, runner, delivered } = setup(async (entry) => {
      ids.push(entry.clientMessageId);
      calls += 1;
      if (calls < 3) throw OFFLINE;
      return sent(entry, 1);
    });
    store.add({ clientMessageId: "same", conversationId, content: "hello" });
    runner.kick();
    await vi.waitFor(() => expect(delivered).toEqual(["hello"]));
    expect(ids).toEqual(["same", "same", "same"]);
  });

  it("never loses another tab's message: each change is made to what is stored", () => {
    const storage = new MemoryStorage();
    const tabA = new OutboxStore(storage, "outbox");
    const tabB = new OutboxStore(storage, "outbox");
    tabA.add({ clientMessageId: "a", conversationId, content: "from A" });
    tabB.add({ clientMessageId: "b", conversationId, content: "from B" });
    // Tab A sends its message and removes it, without having heard of B's.
    tabA.remove("a");
    expect(new OutboxStore(storage, "outbox").getSnapshot().map((entry) => entry.clientMessageId)).toEqual(["b"]);
  });

  it("gives up on a send that never answers and tries it again", async () => {
    let calls = 0;
    const { store, runner, delivered } = setup((entry) => {
      calls += 1;
      // The first attempt hangs like a half-open connection.
      return calls === 1 ? new Promise<Message>(() => undefined) : Promise.resolve(sent(entry, 1));
    });
    store.add({ clientMessageId: "a", conversationId, content: "hello" });
    runner.kick();
    await vi.waitFor(() => expect(delivered).toEqual(["hello"]));
    expect(calls).toBe(2);
  });

  it("waits as long as a rate limit says, keeping the message and its order", async () => {
    let limited = true;
    const waits: number[] = [];
    const storage = new MemoryStorage();
    const store = new OutboxStore(storage, "outbox");
    const delivered: string[] = [];
    const runner = new OutboxRunner({
      store,
      send: async (entry) => {
        if (limited) {
          limited = false;
          throw new Error("slow down");
        }
        return sent(entry, 1);
      },
      classify: () => ({ kind: "wait", ms: 20, message: "Try again in 1 s." }),
      onSent: (entry) => delivered.push(entry.content),
      onRefused: () => undefined,
      onWait: (_entry, _message, ms) => waits.push(ms),
    });
    store.add({ clientMessageId: "a", conversationId, content: "one" });
    store.add({ clientMessageId: "b", conversationId, content: "two" });
    runner.kick();
    await vi.waitFor(() => expect(delivered).toEqual(["one", "two"]));
    expect(waits).toEqual([20]);
    expect(store.getSnapshot()).toEqual([]);
  });
});
