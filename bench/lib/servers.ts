import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

// The servers under test, each in a process of its own (the load generator never
// shares their event loop), started with tsx from the sources.

export const BENCH_SECRET = "bench-secret-that-is-long-enough-for-next-auth-0123456789";
export const BENCH_ORIGIN = "http://bench.test";

export interface ServerProcess {
  pid: number;
  port: number;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** The last 200 chunks a server wrote to stderr (for its error if it dies); BENCH_SERVER_STDERR=1 also shows them. */
export function keepStderr(child: ChildProcess): string[] {
  const stderr: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => {
    if (process.env.BENCH_SERVER_STDERR === "1") process.stderr.write(chunk);
    stderr.push(chunk.toString());
    if (stderr.length > 200) stderr.shift();
  });
  return stderr;
}

export async function startProcess(script: string, env: Record<string, string>, args: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...args, "--import", "tsx", script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr = keepStderr(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const match = /^LISTENING (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before listening:\n${stderr.join("")}`)));
  });
  return {
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** The product's server on `databaseUrl`, with limits that stay out of a load test's way. */
export function startAppServer(databaseUrl: string, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server under load.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  return startProcess("bench/app-server-main.ts", {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    APP_URL: BENCH_ORIGIN,
    DATABASE_URL: databaseUrl,
    NEXTAUTH_SECRET: BENCH_SECRET,
    SEED_DEMO_USERS: "false",
    LOG_LEVEL: "warn",
    RETENTION_INTERVAL_MS: "0",
    MESSAGING_RATE_LIMIT_PER_MINUTE: "10000",
    SOCKET_MESSAGES_PER_MINUTE: "100000",
    ...extraEnv,
  }, nodeArgs);
}

export function startBaselineServer(databaseUrl: string): Promise<ServerProcess> {
  return startProcess("bench/baseline-server.ts", { DATABASE_URL: databaseUrl, PORT: "0" });
}

/**
 * Runs `kill` (SIGKILL to the harness's children) when the harness exits or is
 * interrupted, so no server outlives it; returns what undoes that at a clean end.
 */
export function killOnExit(kill: () => void): () => void {
  const onSignal = () => {
    kill();
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", kill);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("exit", kill);
  };
}
