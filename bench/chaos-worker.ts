// A process of chaos clients (forked by bench/scenarios/chaos.ts). Each client
// behaves as the product's web client does, with a load balancer's failover in
// front of two instances:
// - one WebSocket with the events.onEvent subscription through wsLink, which
//   resumes from the last event id it got after every reconnect (the web client
//   relies on exactly this);
// - sends over HTTP (httpBatchLink) from an outbox, one at a time, oldest first,
//   each retried with the same clientMessageId until it is acknowledged, backing
//   off like the web client and retrying at once when the stream is live again;
// - a typing report before each message, as the composer makes.
// Every message.created it receives is kept, in arrival order, for the harness
// to compare with the database.
import { randomUUID } from "node:crypto";
import { TRPCClientError, createTRPCClient, createWSClient, httpBatchLink, wsLink, type TRPCClient } from "@trpc/client";
import superjson from "superjson";
import WebSocket from "ws";
import type { ClientEvent } from "~/features/events/contracts";
import type { AppRouter } from "~/server/trpc/root";
import { TRPC_HTTP_PATH, TRPC_WS_PATH, reconnectDelayMs } from "~/trpc/shared";

export interface ChaosClientSpec {
  userId: string;
  cookie: string;
  /** The instance (index into the urls) this client's traffic goes to while it is up. */
  home: number;
  /** The conversations it writes into, in turn. */
  conversationIds: string[];
}

export type ChaosCommand =
  | { type: "setup"; urls: string[]; origin: string; clients: ChaosClientSpec[] }
  | { type: "start"; messagesPerSecond: number; durationMs: number; typing: boolean }
  | { type: "drop"; userIds: string[] }
  | { type: "status" }
  | { type: "report" }
  | { type: "close" };

/** A received message.created: conversation, message id, seq. */
export type Received = [string, string, number];

export interface AckedSend {
  clientMessageId: string;
  conversationId: string;
  content: string;
  messageId: string;
  seq: number;
}

export interface ChaosClientReport {
  userId: string;
  received: Received[];
  acked: AckedSend[];
  /** Messages written but not yet acknowledged. */
  unsent: number;
  /** Send attempts beyond each message's first. */
  resends: number;
  /** Answers of 4xx other than rate limiting: the web client would have given up on these. */
  refusals: number;
  firstRefusal: string | null;
  /** WebSocket opens after the first. */
  reconnects: number;
  /** Subscription requests sent on a reconnect with, and without, a cursor. */
  resumedWithCursor: number;
  resumedWithoutCursor: number;
  /** Sum of `ready.replayed` over every ready after the first. */
  replayed: number;
  /** Subscriptions the server ended with an error (restarted from our own cursor). */
  subscriptionErrors: number;
  firstSubscriptionError: string | null;
  /** Sockets this process terminated on the harness's order. */
  dropped: number;
}

export interface ChaosStatus {
  type: "status";
  /** Per client: unsent messages and, per conversation, the highest seq received. */
  clients: { userId: string; unsent: number; highest: Record<string, number> }[];
}

const send = (message: unknown) => process.send?.(message);
/** Web client: outbox back-off between automatic retries, the last repeating; a send with no answer by then is retried. */
const BACKOFF_MS = [500, 1_000, 2_000, 5_000, 10_000, 30_000];
const SEND_TIMEOUT_MS = 15_000;
/** How long an instance that refused a connection is avoided before being tried again. */
const AVOID_MS = 2_000;

interface OutboxEntry {
  clientMessageId: string;
  conversationId: string;
  content: string;
  attempts: number;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class ChaosClient {
  private readonly report: ChaosClientReport;
  private readonly avoidUntil: number[];
  private readonly http: TRPCClient<AppRouter>[];
  private readonly wsClient: ReturnType<typeof createWSClient>;
  private readonly api: TRPCClient<AppRouter>;
  private socket: WebSocket | null = null;
  private opens = 0;
  private readies = 0;
  /** Our own copy of the cursor, for a subscription the server ended with an error. */
  private lastEventId: string | null = null;
  private subscription: { unsubscribe(): void } | null = null;
  private readonly outbox: OutboxEntry[] = [];
  private sending = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private writeTimer: NodeJS.Timeout | undefined;
  private written = 0;
  private readonly highest: Record<string, number> = {};
  private firstReady: () => void = () => {};
  readonly ready = new Promise<void>((resolve) => (this.firstReady = resolve));

  constructor(
    private readonly spec: ChaosClientSpec,
    private readonly urls: string[],
    origin: string,
  ) {
    this.report = {
      userId: spec.userId,
      received: [],
      acked: [],
      unsent: 0,
      resends: 0,
      refusals: 0,
      firstRefusal: null,
      reconnects: 0,
      resumedWithCursor: 0,
      resumedWithoutCursor: 0,
      replayed: 0,
      subscriptionErrors: 0,
      firstSubscriptionError: null,
      dropped: 0,
    };
    this.avoidUntil = urls.map(() => 0);
    const headers = { cookie: spec.cookie, origin };
    this.http = urls.map((url) =>
      createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${url}${TRPC_HTTP_PATH}`, transformer: superjson, headers })] }),
    );
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const client = this;
    class ClientSocket extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, { headers });
        const instance = client.urls.findIndex((url) => String(address).startsWith(url.replace(/^http/, "ws")));
        let opened = false;
        this.on("open", () => {
          opened = true;
          client.socket = this;
          client.opens += 1;
          if (client.opens > 1) client.report.reconnects += 1;
        });
        // A refused connection: the instance is down; the next attempt goes to the other.
        this.on("error", () => {
          if (!opened && instance >= 0) client.avoidUntil[instance] = Date.now() + AVOID_MS;
        });
        this.on("close", () => {
          if (client.socket === this) client.socket = null;
        });
      }

      override send(data: unknown, ...rest: unknown[]) {
        if (client.opens > 1) client.noteResume(String(data));
        return (super.send as (...args: unknown[]) => void)(data, ...rest);
      }
    }
    this.wsClient = createWSClient({
      url: () => `${this.urls[this.pickInstance()]!.replace(/^http/, "ws")}${TRPC_WS_PATH}`,
      WebSocket: ClientSocket as unknown as typeof globalThis.WebSocket,
      retryDelayMs: reconnectDelayMs,
      keepAlive: { enabled: true, intervalMs: 20_000, pongTimeoutMs: 10_000 },
    });
    this.api = createTRPCClient<AppRouter>({ links: [wsLink({ client: this.wsClient, transformer: superjson })] });
  }

  /** Home while it answers, else the other one: what a load balancer with health checks does. */
  private pickInstance(): number {
    const now = Date.now();
    const { home } = this.spec;
    if (this.avoidUntil[home]! <= now) return home;
    const other = (home + 1) % this.urls.length;
    return this.avoidUntil[other]! <= now ? other : home;
  }

  /** Counts whether wsLink's re-sent subscription carries a cursor. */
  private noteResume(frame: string) {
    try {
      const parsed = JSON.parse(frame) as unknown;
      for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
        const { method, params } = message as { method?: string; params?: { lastEventId?: string; input?: { json?: { lastEventId?: string } } } };
        if (method !== "subscription") continue;
        if (params?.lastEventId ?? params?.input?.json?.lastEventId) this.report.resumedWithCursor += 1;
        else this.report.resumedWithoutCursor += 1;
      }
    } catch {
      // PING and PONG are not JSON.
    }
  }

  subscribe(input: { lastEventId: string } | undefined) {
    this.subscription = this.api.events.onEvent.subscribe(input, {
      onData: (item) => this.onItem(item as unknown as ClientEvent | { id: string; data: ClientEvent }),
      onError: (error) => {
        this.report.subscriptionErrors += 1;
        this.report.firstSubscriptionError ??= errorText(error);
        // The web client starts over without a cursor here and refetches what it shows;
        // a client that only has the stream resumes from what it saw.
        setTimeout(() => this.subscribe(this.lastEventId ? { lastEventId: this.lastEventId } : undefined), reconnectDelayMs(0));
      },
    });
  }

  private onItem(item: ClientEvent | { id: string; data: ClientEvent }) {
    const tracked = "data" in item && typeof item.id === "string";
    const event = tracked ? (item as { data: ClientEvent }).data : (item as ClientEvent);
    if (tracked) this.lastEventId = (item as { id: string }).id;
    if (event.type === "message.created") {
      const { conversationId, id, seq } = event.message;
      this.report.received.push([conversationId, id, seq]);
      if (seq > (this.highest[conversationId] ?? 0)) this.highest[conversationId] = seq;
    } else if (event.type === "ready") {
      this.readies += 1;
      if (this.readies === 1) this.firstReady();
      else this.report.replayed += event.replayed;
      // The web client's outbox tries again at once when the stream is live again.
      this.kick();
    }
  }

  start(messagesPerSecond: number, durationMs: number, typing: boolean) {
    const intervalMs = 1000 / messagesPerSecond;
    const total = Math.floor((durationMs / 1000) * messagesPerSecond);
    const write = () => {
      if (this.written >= total) return;
      const conversationId = this.spec.conversationIds[this.written % this.spec.conversationIds.length]!;
      this.written += 1;
      if (typing) {
        void this.http[this.pickInstance()]!.messages.typing.mutate({ conversationId, isTyping: true }).catch(() => undefined);
      }
      this.outbox.push({ clientMessageId: randomUUID(), conversationId, content: `chaos|${this.spec.userId}|${this.written}`, attempts: 0 });
      this.kick();
      this.writeTimer = setTimeout(write, intervalMs);
    };
    // Spread the clients' writes over the interval.
    this.writeTimer = setTimeout(write, Math.random() * intervalMs);
  }

  private kick() {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (!this.sending) void this.drain();
  }

  private async drain() {
    this.sending = true;
    try {
      for (let entry = this.outbox[0]; entry; entry = this.outbox[0]) {
        const instance = this.pickInstance();
        entry.attempts += 1;
        if (entry.attempts > 1) this.report.resends += 1;
        const abort = new AbortController();
        const timeout = setTimeout(() => abort.abort(new Error("The send timed out")), SEND_TIMEOUT_MS);
        try {
          const message = await this.http[instance]!.messages.send.mutate(
            { conversationId: entry.conversationId, content: entry.content, clientMessageId: entry.clientMessageId },
            { signal: abort.signal },
          );
          this.failures = 0;
          this.outbox.shift();
          this.report.acked.push({ ...entry, messageId: message.id, seq: message.seq });
        } catch (error) {
          const data = error instanceof TRPCClientError ? (error.data as { httpStatus?: number; code?: string; retryAfterMs?: number | null } | undefined) : undefined;
          if (data?.httpStatus === undefined && !abort.signal.aborted) {
            // No answer at all: that instance is down, and the next attempt goes elsewhere.
            this.avoidUntil[instance] = Date.now() + AVOID_MS;
          }
          let delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)]!;
          if (data?.code === "TOO_MANY_REQUESTS") delay = Math.max(1_000, data.retryAfterMs ?? 5_000);
          else if (data?.httpStatus !== undefined && data.httpStatus >= 400 && data.httpStatus < 500 && data.httpStatus !== 408) {
            // The web client would mark it failed and wait for the person; here it is
            // counted (it must not happen) and retried, so nothing written is dropped.
            this.report.refusals += 1;
            this.report.firstRefusal ??= `${data.code}: ${errorText(error)}`;
          }
          this.failures += 1;
          this.retryTimer = setTimeout(() => this.kick(), delay);
          return;
        } finally {
          clearTimeout(timeout);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** Ends the socket with no close handshake, as a network that goes away does. */
  drop(): boolean {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.terminate();
    this.report.dropped += 1;
    return true;
  }

  status() {
    return { userId: this.spec.userId, unsent: this.outbox.length, highest: { ...this.highest } };
  }

  result(): ChaosClientReport {
    return { ...this.report, unsent: this.outbox.length };
  }

  async close() {
    clearTimeout(this.writeTimer);
    clearTimeout(this.retryTimer);
    this.subscription?.unsubscribe();
    await this.wsClient.close();
  }
}

const clients = new Map<string, ChaosClient>();

async function setup(command: Extract<ChaosCommand, { type: "setup" }>) {
  for (const spec of command.clients) {
    const client = new ChaosClient(spec, command.urls, command.origin);
    clients.set(spec.userId, client);
    client.subscribe(undefined);
  }
  await Promise.all([...clients.values()].map((client) => client.ready));
  send({ type: "ready", clients: clients.size });
}

process.on("message", (command: ChaosCommand) => {
  const fail = (error: unknown) => send({ type: "error", message: errorText(error) });
  switch (command.type) {
    case "setup":
      void setup(command).catch(fail);
      break;
    case "start":
      for (const client of clients.values()) client.start(command.messagesPerSecond, command.durationMs, command.typing);
      send({ type: "started" });
      break;
    case "drop":
      send({ type: "dropped", count: command.userIds.filter((userId) => clients.get(userId)?.drop()).length });
      break;
    case "status":
      send({ type: "status", clients: [...clients.values()].map((client) => client.status()) } satisfies ChaosStatus);
      break;
    case "report":
      send({ type: "report", clients: [...clients.values()].map((client) => client.result()) });
      break;
    case "close":
      void Promise.all([...clients.values()].map((client) => client.close().catch(() => undefined))).finally(() => process.exit(0));
      break;
  }
});
// The harness going away (killed, crashed) must not leave this process behind.
process.on("disconnect", () => process.exit(0));
send({ type: "spawned" });
