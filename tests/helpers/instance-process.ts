import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface InstanceProcess {
  port: number;
  url: string;
  child: ChildProcess;
  /** SIGKILL: no shutdown, no goodbye to clients. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a server instance in its own process with the given environment. */
export async function startInstanceProcess(env: Record<string, string>): Promise<InstanceProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "tests/helpers/instance-main.ts"], {
    env: { ...process.env, ...env, NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const match = /^LISTENING (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`instance exited with ${code} before listening:\n${stderr.join("")}`)));
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}
