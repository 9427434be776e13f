import { readFileSync } from "node:fs";

// CPU and memory of another process, read from /proc (Linux), so the harness can
// report what the server used without running on its event loop.

const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

export interface ProcessSample {
  at: number;
  /** CPU seconds (user + system) since the process started. */
  cpuSeconds: number;
  rssBytes: number;
}

export function sampleProcess(pid: number): ProcessSample {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name may hold spaces; the fields after it are fixed.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
  return { at: performance.now(), cpuSeconds: (utime + stime) / TICKS_PER_SECOND, rssBytes: rssPages * PAGE_BYTES };
}

/** CPU used between two samples, in percent of one core. */
export function cpuPercent(from: ProcessSample, to: ProcessSample): number {
  const seconds = (to.at - from.at) / 1000;
  return seconds > 0 ? ((to.cpuSeconds - from.cpuSeconds) / seconds) * 100 : 0;
}

export function megabytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}
