import { fork, type ChildProcess } from "node:child_process";
import type { ReaderCommand, ReaderResult } from "./history-reader";

// The `history` scenario's readers in a process of their own (never on the
// server's event loop, nor on the background senders').

export interface Readers {
  pid: number;
  /** Pages of the heavy user's conversation list found while setting up. */
  listPages: number;
  run(options: Omit<Extract<ReaderCommand, { type: "run" }>, "type">): Promise<ReaderResult>;
  close(): Promise<void>;
}

function waitFor<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (message: { type: string; message?: string }) => {
      if (message.type !== type && message.type !== "error") return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      if (message.type === type) resolve(message as T);
      else reject(new Error(`history reader: ${message.message}`));
    };
    const onExit = (code: number | null) => reject(new Error(`history reader exited with ${code}`));
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

export async function startReaders(setup: Omit<Extract<ReaderCommand, { type: "setup" }>, "type">): Promise<Readers> {
  const child = fork("bench/lib/history-reader.ts", [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  await waitFor(child, "started");
  const ready = waitFor<{ listPages: number }>(child, "ready");
  child.send({ type: "setup", ...setup } satisfies ReaderCommand);
  const { listPages } = await ready.catch(async (error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
  return {
    pid: child.pid!,
    listPages,
    run(options) {
      const result = waitFor<ReaderResult>(child, "result");
      child.send({ type: "run", ...options } satisfies ReaderCommand);
      return result;
    },
    close() {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.send({ type: "close" } satisfies ReaderCommand);
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      });
    },
  };
}
