import { readdirSync, statSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { numberOption } from "../lib/args";
import { createBenchDatabase } from "../lib/database";
import { startLoad } from "../lib/load";
import { createUsers } from "../lib/people";
import { cpuPercent, megabytes, sampleProcess } from "../lib/process-usage";
import { machineLine } from "../lib/machine";
import { BENCH_ORIGIN, startAppServer, startBaselineServer } from "../lib/servers";
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

interface IdleRow {
  sockets: number;
  opened: number;
  openSeconds: number;
  firstCount: number;
  firstRssBytes: number;
  endRssBytes: number;
  perSocketKb: number;
  idleCpu: number;
  generatorCpu: number[];
}

async function measureIdle(target: "app" | "baseline", sockets: number, idleSeconds: number, processes: number): Promise<IdleRow> {
  const database = await createBenchDatabase(`idle_${target}`);
  const server = target === "app" ? await startAppServer(database.url) : await startBaselineServer(database.url);
  const loads: Awaited<ReturnType<typeof startLoad>>[] = [];
  try {
    const users =
      target === "app" ? await createUsers(database.url, sockets, "idle") : Array.from({ length: sockets }, () => ({ id: randomUUID(), cookie: "" }));
    const firstCount = Math.max(1, Math.round(sockets / 10));
    const settle = () => new Promise((resolve) => setTimeout(resolve, 5_000));
    const open = (listeners: typeof users) => startLoad({ mode: target, url: server.url, origin: BENCH_ORIGIN, routes: [], listeners, processes });
    loads.push(await open(users.slice(0, firstCount)));
    await settle();
    if (target === "app") await takeHeapSnapshot(server.pid, "first");
    const first = sampleProcess(server.pid);
    const openedAt = performance.now();
    loads.push(await open(users.slice(firstCount)));
    const openSeconds = (performance.now() - openedAt) / 1000;
    const opened = loads[1]!.sockets;
    const pids = loads.flatMap((l) => l.pids);
    await settle();
    const idleStart = sampleProcess(server.pid);
    const generatorStart = pids.map((pid) => sampleProcess(pid));
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    const idleEnd = sampleProcess(server.pid);
    const generatorEnd = pids.map((pid) => sampleProcess(pid));
    if (target === "app") await takeHeapSnapshot(server.pid, "all");
    return {
      sockets: loads[0]!.sockets + opened,
      opened,
      openSeconds,
      firstCount,
      firstRssBytes: first.rssBytes,
      endRssBytes: idleEnd.rssBytes,
      perSocketKb: (idleEnd.rssBytes - first.rssBytes) / opened / 1024,
      idleCpu: cpuPercent(idleStart, idleEnd),
      generatorCpu: generatorStart.map((start, index) => cpuPercent(start, generatorEnd[index]!)),
    };
  } finally {
    for (const load of loads) await load.close();
    await server.stop();
    await database.drop();
  }
}

export async function runIdle(options: Map<string, string>): Promise<void> {
  const sockets = numberOption(options, "sockets", 10_000);
  const idleSeconds = numberOption(options, "idle-seconds", 60);
  const processes = numberOption(options, "processes", 2);
  const withBaseline = options.get("baseline") !== "false";
  console.log(
    `idle: ${sockets} authenticated sockets with the event subscription open, then ${idleSeconds} s idle; ` +
      `${processes} load process(es); ${await machineLine()}`,
  );
  const rows: [string, IdleRow][] = [["Chatline (tRPC, events.onEvent open, keep-alive pings every 30 s)", await measureIdle("app", sockets, idleSeconds, processes)]];
  // The baseline holds raw ws sockets with no subscription and no pings: what a socket costs at least.
  if (withBaseline) rows.push(["Baseline (raw ws, no keep-alive)", await measureIdle("baseline", sockets, idleSeconds, processes)]);
  console.log(
    `\n${table(
      ["server", "sockets", "s to open the rest", "opened/s", "RSS at a tenth MB", "RSS after MB", "KB/socket", "idle server CPU%", "gen CPU%"],
      rows.map(([label, row]) => [
        label,
        row.sockets,
        row.openSeconds.toFixed(1),
        (row.opened / row.openSeconds).toFixed(0),
        megabytes(row.firstRssBytes),
        megabytes(row.endRssBytes),
        row.perSocketKb.toFixed(1),
        row.idleCpu.toFixed(2),
        row.generatorCpu.map((cpu) => cpu.toFixed(1)).join("+"),
      ]),
    )}`,
  );
  const app = rows[0]![1];
  const baseline = rows[1]?.[1];
  const ratio = baseline ? ` (baseline ${baseline.perSocketKb.toFixed(1)} KB, ${(app.perSocketKb / baseline.perSocketKb).toFixed(1)}x)` : "";
  console.log(
    `\nSUMMARY idle: ${app.sockets} sockets (the last ${app.opened} opened in ${app.openSeconds.toFixed(1)} s), ${app.perSocketKb.toFixed(1)} KB RSS each ` +
      `(target <= 25)${ratio}, keep-alive ${app.idleCpu.toFixed(2)}% CPU over ${idleSeconds} s (target < 5%)`,
  );
}
