import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ClientEvent } from "~/features/events/contracts";
import { WS_MAX_PAYLOAD_BYTES } from "~/server/http/app-server";
import { createNodeTrpcClient } from "~/trpc/node-client";
import { TRPC_WS_PATH } from "~/trpc/shared";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

let t: TestServer;
let wsUrl: string;

beforeAll(async () => {
  t = await startTestServer();
  wsUrl = `${t.baseUrl.replace(/^http/, "ws")}${TRPC_WS_PATH}`;
});
afterAll(async () => {
  await t?.close();
});

/** Opens a raw socket; resolves with the socket, or with the HTTP status of a refused upgrade. */
function openRawSocket(headers: Record<string, string> = {}) {
  return new Promise<{ socket?: WebSocket; refusedWith?: number }>((resolve, reject) => {
    const socket = new WebSocket(wsUrl, { headers });
    socket.once("open", () => resolve({ socket }));
    socket.once("unexpected-response", (_req, res) => {
      resolve({ refusedWith: res.statusCode });
      socket.terminate();
    });
    socket.once("error", reject);
  });
}

function nextMessage(socket: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => socket.once("message", (data) => resolve(JSON.parse(String(data)))));
}

describe("the WebSocket endpoint", () => {
  it("authenticates a socket by its session cookie and serves a protected subscription", async () => {
    const user = await t.createUser({ name: "Subscriber" });
    const { api } = await t.client({ userId: user.id, origin: TEST_APP_ORIGIN });
    const events: { id: string; data: ClientEvent }[] = [];
    const subscription = api.events.onEvent.subscribe(undefined, {
      onData: (envelope) => events.push(envelope as unknown as { id: string; data: ClientEvent }),
    });
    await vi.waitFor(() => expect(events).toHaveLength(1));
    // Tracked: the id is what the client sends back to resume.
    expect(events[0]).toMatchObject({ id: expect.stringMatching(/^\d+$/), data: { type: "ready", userId: user.id, replayed: 0 } });
    subscription.unsubscribe();
  });

  it("ends an open subscription once its account is disabled", async () => {
    const user = await t.createUser({ name: "Soon Disabled" });
    const { api } = await t.client({ userId: user.id, origin: TEST_APP_ORIGIN });
    const received: string[] = [];
    const ended = new Promise<{ data?: { code?: string } }>((resolve) => {
      api.events.onEvent.subscribe(undefined, {
        onData: (envelope) => received.push((envelope as unknown as { data: ClientEvent }).data.type),
        onError: (error) => resolve(error as never),
      });
    });
    await vi.waitFor(() => expect(received).toContain("ready"));
    await t.server.database.prisma.user.update({ where: { id: user.id }, data: { disabledAt: new Date() } });
    expect((await ended).data?.code).toBe("UNAUTHORIZED");
  });

  it("refuses a protected subscription on a socket without a session", async () => {
    const { api } = await t.client({ origin: TEST_APP_ORIGIN });
    const error = await new Promise<{ data?: { code?: string } }>((resolve) => {
      api.events.onEvent.subscribe(undefined, { onError: (err) => resolve(err as never), onData: () => {} });
    });
    expect(error.data?.code).toBe("UNAUTHORIZED");
  });

  it("refuses a forged session cookie the same way", async () => {
    const { api, wsClient } = createClientWithCookie("next-auth.session-token=forged");
    const error = await new Promise<{ data?: { code?: string } }>((resolve) => {
      api.events.onEvent.subscribe(undefined, { onError: (err) => resolve(err as never), onData: () => {} });
    });
    expect(error.data?.code).toBe("UNAUTHORIZED");
    await wsClient.close();
  });

  it("refuses an upgrade from a foreign Origin before any WebSocket exists", async () => {
    const user = await t.createUser();
    const cookie = await t.sessionCookie(user.id);
    expect(await openRawSocket({ origin: "https://evil.example", cookie })).toEqual({ refusedWith: 403 });
    const allowed = await openRawSocket({ origin: TEST_APP_ORIGIN, cookie });
    expect(allowed.socket?.readyState).toBe(WebSocket.OPEN);
    allowed.socket?.close();
  });

  it("refuses upgrades on other paths", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${t.baseUrl.replace(/^http/, "ws")}/somewhere-else`);
      socket.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      socket.once("error", reject);
    });
    expect(status).toBe(404);
  });

  it("answers a malformed frame with a typed error and keeps serving", async () => {
    const { socket } = await openRawSocket();
    socket!.send("this is not json");
    const reply = await nextMessage(socket!);
    // Errors travel superjson-encoded, as every other payload does.
    expect(reply).toMatchObject({ id: null, error: { json: { data: { code: "PARSE_ERROR" } } } });
    socket!.send(JSON.stringify({ id: 7, method: "query", params: { path: "no.such.procedure", input: { json: null } } }));
    expect(await nextMessage(socket!)).toMatchObject({ id: 7, error: { json: { data: { code: "NOT_FOUND" } } } });
    socket!.close();
    const health = await fetch(`${t.baseUrl}/api/health`);
    expect(health.status).toBe(200);
  });

  it("closes a socket that sends a frame over the payload limit (1009)", async () => {
    const { socket } = await openRawSocket();
    const closed = new Promise<number>((resolve) => socket!.once("close", (code) => resolve(code)));
    socket!.send("x".repeat(WS_MAX_PAYLOAD_BYTES + 1));
    expect(await closed).toBe(1009);
  });
});

function createClientWithCookie(cookie: string) {
  return createNodeTrpcClient({ baseUrl: t.baseUrl, cookie, origin: TEST_APP_ORIGIN });
}
