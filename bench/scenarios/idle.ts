import { readdirSync, statSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { numberOption } from "../lib/args";
import { createBenchDatabase, postgresVersion } from "../lib/database";
import { startLoad } from "../lib/load";
import { createUsers } from "../lib/people";
import { cpuPercent, megabytes, sampleProcess } from "../lib/process-usage";
import { BENCH_ORIGIN, startAppServer } from "../lib/servers";
import { table } from "../lib/stats";

// `idle`: N signed-in users, each with a socket and the event subscription open,
// doing nothing. Reports the server's RSS per socket, how long the sockets took to
// open, and the CPU the keep-alive costs (the server pings every socket every 30 s)
// over an idle window. RSS per socket is the slope between a first tenth of the
// sockets and all of them, so start-up memory and its first garbage collections do
// not count.

/**
 * With BENCH_SERVER_NODE_ARGS="--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR",
 * the server writes a heap snapshot after the first tenth of the sockets and after
 * the idle window: their difference is what the other sockets hold.
 */
async function takeHeapSnapshot(pid: number, label: string): Promise<void> {
  const args = process.env.BENCH_SERVER_NODE_ARGS ?? "";
  const directory = /--diagnostic-dir=(\S+)/.exec(args)?.[1];
  if (!args.includes("--heapsnapshot-signal=SIGUSR2") || !directory) return;
  const before = new Set(readdirSync(directory));
  process.kill(pid, "SIGUSR2");
  // Writing blocks the server; the file is complete once its size stops growing.
  let size = -1;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const written = readdirSync(directory).find((name) => !before.has(name) && name.endsWith(".heapsnapshot"));
    if (!written) continue;
    const now = statSync(`${directory}/${written}`).size;
    if (now === size) {
      console.log(`heap snapshot (${label}): ${directory}/${written}`);
      return;
    }
    size = now;
  }
}

export async function runIdle(options: Map<string, string>): Promise<void> {
  const sockets = numberOption(options, "sockets", 10_000);
  const idleSeconds = numberOption(options, "idle-seconds", 60);
  const processes = numberOption(options, "processes", 2);
  console.log(
    `idle: ${sockets} authenticated sockets with the event subscription open, then ${idleSeconds} s idle; ` +
      `${processes} load process(es); ${cpus()[0]?.model ?? "?"} x${availableParallelism()}, Node ${process.version}, ` +
      `PostgreSQL ${await postgresVersion(process.env.DATABASE_URL!)}`,
  );
  const database = await createBenchDatabase("idle");
  const server = await startAppServer(database.url);
  const loads: Awaited<ReturnType<typeof startLoad>>[] = [];
  try {
    const users = await createUsers(database.url, sockets, "idle");
    const firstCount = Math.max(1, Math.round(sockets / 10));
    const settle = () => new Promise((resolve) => setTimeout(resolve, 5_000));
    loads.push(await startLoad({ mode: "app", url: server.url, origin: BENCH_ORIGIN, routes: [], listeners: users.slice(0, firstCount), processes }));
    await settle();
    await takeHeapSnapshot(server.pid, "first");
    const first = sampleProcess(server.pid);
    const openedAt = performance.now();
    loads.push(await startLoad({ mode: "app", url: server.url, origin: BENCH_ORIGIN, routes: [], listeners: users.slice(firstCount), processes }));
    const openSeconds = (performance.now() - openedAt) / 1000;
    const opened = loads[1]!.sockets;
    const load = { sockets: loads[0]!.sockets + opened, pids: loads.flatMap((l) => l.pids) };
    await settle();
    const idleStart = sampleProcess(server.pid);
    const generatorStart = load.pids.map((pid) => sampleProcess(pid));
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    const idleEnd = sampleProcess(server.pid);
    await takeHeapSnapshot(server.pid, "all");
    const generatorEnd = load.pids.map((pid) => sampleProcess(pid));
    const perSocketKb = (idleEnd.rssBytes - first.rssBytes) / opened / 1024;
    const empty = first;
    const keepAliveCpu = cpuPercent(idleStart, idleEnd);
    const generatorCpu = generatorStart.map((start, index) => cpuPercent(start, generatorEnd[index]!));
    console.log(
      `\n${table(
        ["sockets", `s to open ${opened}`, "opened/s", `RSS at ${firstCount} MB`, "RSS after MB", "KB/socket", "idle server CPU%", "gen CPU%"],
        [
          [
            load.sockets,
            openSeconds.toFixed(1),
            (opened / openSeconds).toFixed(0),
            megabytes(empty.rssBytes),
            megabytes(idleEnd.rssBytes),
            perSocketKb.toFixed(1),
            keepAliveCpu.toFixed(2),
            generatorCpu.map((cpu) => cpu.toFixed(1)).join("+"),
          ],
        ],
      )}`,
    );
    console.log(
      `\nSUMMARY idle: ${load.sockets} sockets (the last ${opened} opened in ${openSeconds.toFixed(1)} s), ${perSocketKb.toFixed(1)} KB RSS each ` +
        `(target <= 25), keep-alive ${keepAliveCpu.toFixed(2)}% CPU over ${idleSeconds} s (target < 5%)`,
    );
  } finally {
    for (const load of loads) await load.close();
    await server.stop();
    await database.drop();
  }
}
