import { randomUUID } from "node:crypto";
import { listOption, numberOption } from "../lib/args";
import { machineLine } from "../lib/machine";
import { createDirect, createUsers } from "../lib/people";
import { describeStep, ramp, reportRamp, type RampSetup } from "../lib/ramp";
import type { ServerProcess } from "../lib/servers";

// `direct`: pairs of users chatting both ways, ramped until p99 passes the target;
// the same ramp against the baseline (raw ws + pg) for the ratio.

function pairs(count: number, target: "app" | "baseline") {
  return async (server: ServerProcess, databaseUrl: string): Promise<RampSetup> => {
    // The baseline has no users table: ids are enough for it.
    const users =
      target === "app" ? await createUsers(databaseUrl, count * 2, "direct") : Array.from({ length: count * 2 }, () => ({ id: randomUUID(), cookie: "" }));
    const routes = [];
    for (let i = 0; i < count; i += 1) {
      const [a, b] = [users[2 * i]!, users[2 * i + 1]!];
      const conversationId = target === "app" ? await createDirect(server.url, a, b) : randomUUID();
      routes.push({ sender: a, receivers: [b], conversationId }, { sender: b, receivers: [a], conversationId });
    }
    return { routes, listeners: users, fanOut: 1 };
  };
}

export async function runDirect(options: Map<string, string>): Promise<void> {
  const pairCount = numberOption(options, "pairs", 100);
  const steps = listOption(options, "steps", [250, 500, 1000, 2000, 3000, 4000, 6000]);
  const seconds = numberOption(options, "seconds", 5);
  const processes = numberOption(options, "processes", 1);
  const p99TargetMs = numberOption(options, "p99", 50);
  const withBaseline = options.get("baseline") !== "false";
  const baselineSteps = listOption(options, "baseline-steps", steps);
  console.log(
    `direct: ${pairCount} pairs chatting both ways, ${seconds} s per step, ramp ${steps.join(", ")} msg/s until p99 > ${p99TargetMs} ms; ` +
      `${processes} load process(es); ${await machineLine()}`,
  );
  const common = { scenario: "direct", seconds, processes, p99TargetMs };
  const app = await ramp({ ...common, target: "app", steps, setup: pairs(pairCount, "app") });
  const appBest = reportRamp(`Chatline (tRPC over WebSocket, ${app.sockets} sockets)`, app.rows, p99TargetMs);
  let baselineLine = "";
  if (withBaseline) {
    const baseline = await ramp({ ...common, target: "baseline", steps: baselineSteps, setup: pairs(pairCount, "baseline") });
    const baselineBest = reportRamp(`Baseline (raw ws + pg, ${baseline.sockets} sockets)`, baseline.rows, p99TargetMs);
    const ratio = appBest && baselineBest ? ` = ${((appBest.rate / baselineBest.rate) * 100).toFixed(0)}% of baseline` : "";
    baselineLine = `; baseline ${describeStep(baselineBest, "msg")}${ratio}`;
  }
  console.log(`\nSUMMARY direct: highest sustained (all persisted and delivered, p99 <= ${p99TargetMs} ms): ${describeStep(appBest, "msg")}${baselineLine}`);
}
