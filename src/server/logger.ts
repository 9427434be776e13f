import pino from "pino";

// One structured logger for the process; requests and sockets get child loggers
// carrying their request id. Pretty output is for people at a terminal only.

function createLogger() {
  const level = process.env.LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "warn" : "info");
  // JSON lines everywhere but at a developer's terminal.
  const pretty = process.stdout.isTTY && process.env.NODE_ENV !== "production";
  return pino({
    level,
    base: { pid: process.pid },
    redact: { paths: ["password", "*.password", "req.headers.cookie", "headers.cookie"], censor: "[redacted]" },
    ...(pretty ? { transport: { target: "pino-pretty", options: { translateTime: "HH:MM:ss.l", ignore: "pid,hostname" } } } : {}),
  });
}

const globalForLogger = globalThis as unknown as { __chatlineLogger?: pino.Logger };

export const logger: pino.Logger = (globalForLogger.__chatlineLogger ??= createLogger());
export type Logger = pino.Logger;
