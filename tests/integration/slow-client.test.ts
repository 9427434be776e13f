import type { Socket } from "node:net";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { invalidateMessagingLimits } from "~/features/settings/settings.service";
import { TRPC_WS_PATH } from "~/trpc/shared";
import { collectEvents } from "../helpers/event-collector";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// A client that stops reading must not make the server hold everything for it:
// past a small queue (here 50 events, 64 KiB unflushed) its socket is closed, and
// it resumes from its cursor without losing a message.

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ EVENT_QUEUE_CAPACITY: "50", EVENT_SOCKET_HIGH_WATER_BYTES: "65536" });
  await t.server.database.prisma.messagingSettings.update({ where: { id: 1 }, data: { maxMessageLength: 5000 } });
  invalidateMessagingLimits();
});
afterAll(async () => {
  await t?.close();
});

describe("a client that stops reading", () => {
  it("is disconnected instead of buffered without bound, then resumes by cursor and misses nothing", async () => {
    const ana = await t.createUser({ name: "Ana" });
    const ben = await t.createUser({ name: "Ben" });
    const anaClient = await t.client({ userId: ana.id, origin: TEST_APP_ORIGIN });
    const conversation = await anaClient.api.conversations.createDirect.mutate({ recipientId: ben.id });

    const socket = new WebSocket(`${t.baseUrl.replace(/^http/, "ws")}${TRPC_WS_PATH}`, {
      headers: { cookie: await t.sessionCookie(ben.id), origin: TEST_APP_ORIGIN },
    });
    // A tracked event on the wire: { id, result: { type: "data", id, data: { json: { id, data: event } } } }.
    const frames: { id?: number; result?: { id?: string; data?: { json?: { data?: { type?: string; message?: { seq: number } } } } } }[] =
      [];
    const eventOf = (frame: (typeof frames)[number]) => frame.result?.data?.json?.data;
    socket.on("message", (data) => {
      // The server's keep-alive ("PING") is not JSON: a slow run lasts long enough to get one.
      const text = String(data);
      if (text !== "PING") frames.push(JSON.parse(text));
    });
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send(
      JSON.stringify({
        id: 1,
        method: "subscription",
        params: { path: "events.onEvent", input: { json: null, meta: { values: ["undefined"], v: 1 } } },
      }),
    );
    await vi.waitFor(() => expect(frames.some((f) => eventOf(f)?.type === "ready")).toBe(true));

    // Stop reading: the kernel buffers fill, then the server's side of the socket.
    (socket as unknown as { _socket: Socket })._socket.pause();
    const big = "😀".repeat(2_500); // 5,000 UTF-16 units, 10 KB on the wire
    const total = 600;
    for (let i = 1; i <= total; i++) {
      await anaClient.api.messages.send.mutate({ conversationId: conversation.id, content: `${i} ${big}`.slice(0, 5000), clientMessageId: `slow-${i}` });
    }
    (socket as unknown as { _socket: Socket })._socket.resume();
    expect(await closed).toBe(1013);

    const seen = frames.map((f) => eventOf(f)?.message?.seq).filter((seq): seq is number => seq !== undefined);
    expect(seen.length).toBeLessThan(total);
    const cursor = [...frames].reverse().find((f) => f.result?.id !== undefined)?.result?.id;
    expect(cursor).toBeDefined();

    const benClient = await t.client({ userId: ben.id, origin: TEST_APP_ORIGIN });
    const resumed = collectEvents(benClient, { lastEventId: cursor });
    await resumed.ready();
    const all = [...seen, ...resumed.ofType("message.created").map((e) => e.message.seq)];
    expect(all).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    resumed.stop();
  }, 120_000);
});
