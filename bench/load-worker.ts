// A load generator process (forked by bench/lib/load.ts): it holds the sockets of
// its share of the senders and receivers, sends at a fixed rate whatever the
// answers (open loop), and measures each delivery on one clock: the send time is
// written into the message, the receiver subtracts it from its own time.
//
// Modes: "app" speaks tRPC over WebSocket to the product (messages.send and the
// events.onEvent subscription on one socket per user, as a client would);
// "baseline" speaks raw JSON frames to bench/baseline-server.ts.
import { randomUUID } from "node:crypto";
import { createTRPCClient, createWSClient, wsLink, type TRPCClient } from "@trpc/client";
import superjson from "superjson";
import WebSocket from "ws";
import type { AppRouter } from "~/server/trpc/root";
import { TRPC_WS_PATH } from "~/trpc/shared";

export interface WorkerUser {
  id: string;
  cookie: string;
}
export interface WorkerRoute {
  sender: WorkerUser;
  /** Everyone who receives what the sender writes (one for a direct conversation). */
  receivers: WorkerUser[];
  conversationId: string;
}
export type WorkerCommand =
  | { type: "setup"; mode: "app" | "baseline"; url: string; origin: string; routes: WorkerRoute[]; listeners: WorkerUser[] }
  | { type: "run"; step: string; ratePerSecond: number; durationMs: number; drainMs: number }
  | { type: "close" };
export interface WorkerResult {
  type: "result";
  step: string;
  sent: number;
  acked: number;
  ackErrors: number;
  firstAckError: string | null;
  /** Sender to receiver, ms, one per delivery of this step. */
  deliveries: number[];
  /** Send to acknowledgement, ms. */
  acks: number[];
  /** CPU this process used during the step, in percent of one core. */
  cpuPercent: number;
  /** The longest the send timer fired late: a saturated generator shows here. */
  maxTimerLagMs: number;
}

const now = () => performance.timeOrigin + performance.now();
const send = (message: unknown) => process.send?.(message);

interface Connection {
  sendMessage(route: WorkerRoute, content: string): Promise<void>;
  close(): Promise<void>;
}

let step = "";
let deliveries: number[] = [];

function onDelivered(content: string | null | undefined) {
  if (!content?.startsWith("b|")) return;
  const [, tag, sentAt] = content.split("|");
  if (tag === step) deliveries.push(now() - Number(sentAt));
}

async function connectApp(url: string, origin: string, user: WorkerUser, listen: boolean, viewing: string | null): Promise<Connection> {
  const headers = { cookie: user.cookie, origin };
  class HeaderWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  const wsClient = createWSClient({
    url: `${url.replace(/^http/, "ws")}${TRPC_WS_PATH}`,
    WebSocket: HeaderWebSocket as unknown as typeof globalThis.WebSocket,
  });
  const api: TRPCClient<AppRouter> = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient, transformer: superjson })] });
  await new Promise<void>((resolve, reject) => {
    const subscription = api.events.onEvent.subscribe(undefined, {
      onData(item) {
        const event = ("data" in item ? item.data : item) as { type: string; message?: { senderId: string | null; content: string | null } };
        if (event.type === "ready") resolve();
        else if (listen && event.type === "message.created" && event.message?.senderId !== user.id) onDelivered(event.message?.content);
      },
      onError(error) {
        reject(error);
      },
    });
    void subscription;
  });
  // People chatting have the conversation on screen: its messages notify nobody
  // (BENCH_NOT_VIEWING=1 measures the other case, every message notifying).
  if (viewing) await api.presence.set.mutate({ status: "active", viewingConversationId: viewing });
  return {
    async sendMessage(route, content) {
      await api.messages.send.mutate({ conversationId: route.conversationId, content, clientMessageId: randomUUID() });
    },
    async close() {
      await wsClient.close();
    },
  };
}

async function connectBaseline(url: string, user: WorkerUser, listen: boolean): Promise<Connection> {
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}/?user=${user.id}`);
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  let nextId = 0;
  socket.on("message", (data) => {
    const frame = JSON.parse(String(data)) as { type: string; id?: number; content?: string; senderId?: string; message?: string };
    if (frame.type === "message" && listen && frame.senderId !== user.id) onDelivered(frame.content);
    else if (frame.type === "ack" || frame.type === "error") {
      const waiter = pending.get(frame.id!);
      pending.delete(frame.id!);
      if (frame.type === "ack") waiter?.resolve();
      else waiter?.reject(new Error(frame.message));
    }
  });
  await new Promise<void>((resolve, reject) => socket.once("open", resolve).once("error", reject));
  return {
    sendMessage(route, content) {
      const id = ++nextId;
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        socket.send(JSON.stringify({ id, conversationId: route.conversationId, to: route.receivers.map((receiver) => receiver.id), content }));
      });
    },
    async close() {
      socket.close();
    },
  };
}

let routes: WorkerRoute[] = [];
const connections = new Map<string, Connection>();

async function setup(command: Extract<WorkerCommand, { type: "setup" }>) {
  routes = command.routes;
  const users = new Map<string, { user: WorkerUser; listen: boolean }>();
  for (const route of routes) users.set(route.sender.id, { user: route.sender, listen: users.get(route.sender.id)?.listen ?? false });
  for (const listener of command.listeners) users.set(listener.id, { user: listener, listen: true });
  // A few at a time: thousands of simultaneous upgrades would be a test of their own.
  const entries = [...users.values()];
  const viewingOf = new Map<string, string>();
  if (!process.env.BENCH_NOT_VIEWING) {
    for (const route of routes) for (const person of [route.sender, ...route.receivers]) if (!viewingOf.has(person.id)) viewingOf.set(person.id, route.conversationId);
  }
  for (let i = 0; i < entries.length; i += 50) {
    await Promise.all(
      entries.slice(i, i + 50).map(async ({ user, listen }) => {
        const connection =
          command.mode === "app" ? await connectApp(command.url, command.origin, user, listen, viewingOf.get(user.id) ?? null) : await connectBaseline(command.url, user, listen);
        connections.set(user.id, connection);
      }),
    );
  }
  send({ type: "ready", sockets: connections.size });
}

async function run(command: Extract<WorkerCommand, { type: "run" }>) {
  step = command.step;
  deliveries = [];
  const acks: number[] = [];
  let sent = 0;
  let acked = 0;
  let ackErrors = 0;
  let firstAckError: string | null = null;
  let maxTimerLagMs = 0;
  const cpuStart = process.cpuUsage();
  const startedAt = now();
  const total = Math.round((command.ratePerSecond * command.durationMs) / 1000);
  const inFlight = new Set<Promise<void>>();

  await new Promise<void>((resolve) => {
    let expectedTickAt = now();
    const tick = () => {
      const at = now();
      maxTimerLagMs = Math.max(maxTimerLagMs, at - expectedTickAt);
      const due = Math.min(total, Math.floor(((at - startedAt) * command.ratePerSecond) / 1000));
      while (sent < due) {
        const route = routes[sent % routes.length]!;
        const sendAt = now();
        sent += 1;
        const promise = connections
          .get(route.sender.id)!
          .sendMessage(route, `b|${step}|${sendAt}|${sent}`)
          .then(
            () => {
              acked += 1;
              acks.push(now() - sendAt);
            },
            (error: unknown) => {
              ackErrors += 1;
              firstAckError ??= error instanceof Error ? error.message : String(error);
            },
          )
          .finally(() => inFlight.delete(promise));
        inFlight.add(promise);
      }
      if (sent >= total) return resolve();
      expectedTickAt = now() + 1;
      setTimeout(tick, 1);
    };
    tick();
  });
  const expectedDeliveries = () => acked * (routes[0]?.receivers.length ?? 1);
  const drainUntil = now() + command.drainMs;
  while (now() < drainUntil && (inFlight.size > 0 || deliveries.length < expectedDeliveries())) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const cpu = process.cpuUsage(cpuStart);
  const elapsedMs = now() - startedAt;
  const result: WorkerResult = {
    type: "result",
    step,
    sent,
    acked,
    ackErrors,
    firstAckError,
    deliveries,
    acks,
    cpuPercent: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
    maxTimerLagMs,
  };
  send(result);
}

process.on("message", (command: WorkerCommand) => {
  if (command.type === "setup") void setup(command).catch((error: unknown) => send({ type: "error", message: String(error) }));
  else if (command.type === "run") void run(command).catch((error: unknown) => send({ type: "error", message: String(error) }));
  else void Promise.all([...connections.values()].map((c) => c.close())).finally(() => process.exit(0));
});
send({ type: "started" });
