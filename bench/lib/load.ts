import { fork, type ChildProcess } from "node:child_process";
import type { WorkerCommand, WorkerResult, WorkerRoute, WorkerUser } from "../load-worker";

// The load generator's processes: the routes (sender → receivers) are split
// between them, each runs its share of the rate, and their results are merged.

/** The workers' results of one step, merged. */
export interface StepResult extends Omit<WorkerResult, "type" | "step" | "cpuPercent"> {
  /** Per generator process, percent of one core. */
  generatorCpu: number[];
}

export interface LoadGenerator {
  sockets: number;
  /** The generator processes (for their CPU and memory). */
  pids: number[];
  run(step: string, ratePerSecond: number, durationMs: number, drainMs: number): Promise<StepResult>;
  close(): Promise<void>;
}

function waitFor<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // Both listeners go once the answer is in: a ramp of many steps would otherwise pile them up.
    const done = () => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    const onMessage = (message: { type: string; message?: string }) => {
      if (message.type === type) {
        done();
        resolve(message as T);
      } else if (message.type === "error") {
        done();
        reject(new Error(`load worker: ${message.message}`));
      }
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`load worker exited with ${code}`));
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}

export async function startLoad(options: {
  mode: "app" | "baseline";
  url: string;
  origin: string;
  routes: WorkerRoute[];
  /** Users who only receive (their deliveries are measured). */
  listeners: WorkerUser[];
  processes: number;
}): Promise<LoadGenerator> {
  const children = Array.from({ length: options.processes }, () =>
    fork("bench/load-worker.ts", [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] }),
  );
  await Promise.all(children.map((child) => waitFor(child, "started")));
  // Each process holds whole routes and the listeners of its routes, so a delivery is
  // measured where its receiver's socket is.
  const shares = children.map((_, index) => options.routes.filter((_, routeIndex) => routeIndex % children.length === index));
  // Listeners of no route (idle sockets) are dealt out in turn.
  const routed = new Set(options.routes.flatMap((route) => route.receivers.map((receiver) => receiver.id)));
  const unrouted = options.listeners.filter((listener) => !routed.has(listener.id));
  const readies = await Promise.all(
    children.map((child, index) => {
      const routes = shares[index]!;
      const mine = new Set(routes.flatMap((route) => route.receivers.map((receiver) => receiver.id)));
      const listeners = [
        ...options.listeners.filter((listener) => mine.has(listener.id)),
        ...unrouted.filter((_, listenerIndex) => listenerIndex % children.length === index),
      ];
      const ready = waitFor<{ sockets: number }>(child, "ready");
      child.send({ type: "setup", mode: options.mode, url: options.url, origin: options.origin, routes, listeners } satisfies WorkerCommand);
      return ready;
    }),
  );
  return {
    sockets: readies.reduce((sum, ready) => sum + ready.sockets, 0),
    pids: children.map((child) => child.pid!),
    async run(step, ratePerSecond, durationMs, drainMs) {
      const results = await Promise.all(
        children.map((child, index) => {
          const result = waitFor<WorkerResult>(child, "result");
          const share = (ratePerSecond * shares[index]!.length) / options.routes.length;
          child.send({ type: "run", step, ratePerSecond: share, durationMs, drainMs } satisfies WorkerCommand);
          return result;
        }),
      );
      return {
        sent: results.reduce((sum, r) => sum + r.sent, 0),
        acked: results.reduce((sum, r) => sum + r.acked, 0),
        ackErrors: results.reduce((sum, r) => sum + r.ackErrors, 0),
        firstAckError: results.find((r) => r.firstAckError)?.firstAckError ?? null,
        deliveries: results.flatMap((r) => r.deliveries),
        acks: results.flatMap((r) => r.acks),
        generatorCpu: results.map((r) => r.cpuPercent),
        maxTimerLagMs: Math.max(...results.map((r) => r.maxTimerLagMs)),
      };
    },
    async close() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              child.once("exit", () => resolve());
              child.send({ type: "close" } satisfies WorkerCommand);
              setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
            }),
        ),
      );
    },
  };
}
