import { availableParallelism, cpus } from "node:os";
import { adminUrl, postgresVersion } from "./database";

/** The machine a scenario ran on, for its first line: timings mean little without it. */
export async function machineLine(): Promise<string> {
  return `${cpus()[0]?.model ?? "?"} x${availableParallelism()}, Node ${process.version}, PostgreSQL ${await postgresVersion(adminUrl())}`;
}
