import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";

// A Redis of a scenario's own, in memory only, so a scenario may kill and restart
// it without touching the machine's shared Redis.

export interface RedisProcess {
  port: number;
  url: string;
  /** The current server's process (it changes with a restart). */
  readonly pid: number;
  /** SIGKILL, then a new server on the same port (empty, as after a crash without persistence). */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function launch(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      output.push(line);
      if (line.includes("Ready to accept connections")) resolve(child);
    });
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${output.join("\n")}`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  return exited;
}

export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  let child = await launch(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid!;
    },
    async restart(downMs) {
      await killed(child);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      child = await launch(port);
    },
    stop: () => killed(child),
  };
}
