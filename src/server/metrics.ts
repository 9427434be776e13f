import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

// Prometheus metrics of this process, served at /api/metrics. One registry per
// process (kept on globalThis: modules loaded twice must not register twice).
// Counters are per instance; Prometheus sums them across instances.

export interface ChatlineMetrics {
  registry: Registry;
  /** Messages stored by sends handled on this instance (a retried send counts once). */
  messagesSent: Counter;
  /** message.created events written to a subscriber's socket (`source`: live or replay). */
  deliveries: Counter<"source">;
  /** From a message's createdAt to the moment its event is written to a subscriber socket (live only). */
  deliveryLatency: Histogram;
  /** Sends written per statement by the message writer's group commit. */
  messageWriteBatch: Histogram;
  /** Open WebSocket connections (read at scrape time). */
  connections: Gauge;
}

const globalForMetrics = globalThis as unknown as {
  __chatlineMetrics?: ChatlineMetrics;
  __chatlineSocketCount?: () => number;
};

function createMetrics(): ChatlineMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    messagesSent: new Counter({
      name: "chatline_messages_sent_total",
      help: "Messages stored by sends handled on this instance",
      registers: [registry],
    }),
    deliveries: new Counter({
      name: "chatline_message_deliveries_total",
      help: "message.created events written to a subscriber socket",
      labelNames: ["source"],
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: "chatline_message_delivery_latency_seconds",
      help: "From a message's createdAt to its event being written to a subscriber socket (live events)",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    messageWriteBatch: new Histogram({
      name: "chatline_message_write_batch_size",
      help: "Sends written together in one statement (group commit)",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    connections: new Gauge({
      name: "chatline_websocket_connections",
      help: "Open WebSocket connections on this instance",
      registers: [registry],
      collect() {
        this.set(globalForMetrics.__chatlineSocketCount?.() ?? 0);
      },
    }),
  };
}

export function metrics(): ChatlineMetrics {
  return (globalForMetrics.__chatlineMetrics ??= createMetrics());
}

/** The server says where the open sockets are counted (read at every scrape). */
export function setSocketCounter(count: (() => number) | undefined): void {
  globalForMetrics.__chatlineSocketCount = count;
}

/** A delivered message.created event: counted, and its latency observed when it went out live. */
export function recordDelivery(source: "live" | "replay", createdAt: unknown): void {
  const m = metrics();
  m.deliveries.inc({ source });
  if (source !== "live") return;
  const at = createdAt instanceof Date ? createdAt.getTime() : typeof createdAt === "string" ? Date.parse(createdAt) : NaN;
  if (Number.isFinite(at)) m.deliveryLatency.observe(Math.max(0, Date.now() - at) / 1000);
}
