import { randomUUID } from "node:crypto";
import { listOption, numberOption } from "../lib/args";
import { machineLine } from "../lib/machine";
import { createGroup, createUsers } from "../lib/people";
import { describeStep, ramp, reportRamp, type RampSetup } from "../lib/ramp";
import type { ServerProcess } from "../lib/servers";

// `group`: one group of `--members` people, every member sending in turn and every
// other member's socket receiving; the rate (messages/s into the group) is ramped
// until p99 passes the target. Deliveries/s = rate x (members - 1). The baseline
// fans the same frames out on raw ws after the same insert.

function oneGroup(members: number, target: "app" | "baseline") {
  return async (server: ServerProcess, databaseUrl: string): Promise<RampSetup> => {
    const users =
      target === "app" ? await createUsers(databaseUrl, members, "group") : Array.from({ length: members }, () => ({ id: randomUUID(), cookie: "" }));
    const conversationId = target === "app" ? await createGroup(server.url, users[0]!, users.slice(1), "Everyone") : randomUUID();
    const routes = users.map((sender) => ({ sender, receivers: users.filter((user) => user !== sender), conversationId }));
    return { routes, listeners: users, fanOut: members - 1 };
  };
}

export async function runGroup(options: Map<string, string>): Promise<void> {
  const members = numberOption(options, "members", 100);
  const steps = listOption(options, "steps", [50, 100, 200, 300, 400, 600]);
  const seconds = numberOption(options, "seconds", 5);
  const p99TargetMs = numberOption(options, "p99", 100);
  const withBaseline = options.get("baseline") !== "false";
  const baselineSteps = listOption(options, "baseline-steps", steps);
  // One generator process: every member's socket sees every message, so the
  // deliveries of a group cannot be split between processes the way pairs are.
  console.log(
    `group: ${members} members, every member sending in turn, ${seconds} s per step, ramp ${steps.join(", ")} msg/s ` +
      `(x ${members - 1} deliveries) until p99 > ${p99TargetMs} ms; 1 load process; ${await machineLine()}`,
  );
  const common = { scenario: "group", seconds, processes: 1, p99TargetMs, appEnv: { MESSAGING_MAX_GROUP_PARTICIPANTS: String(Math.min(100, members)) } };
  const app = await ramp({ ...common, target: "app", steps, setup: oneGroup(members, "app") });
  const appBest = reportRamp(`Chatline (tRPC over WebSocket, ${app.sockets} sockets)`, app.rows, p99TargetMs);
  let baselineLine = "";
  if (withBaseline) {
    const baseline = await ramp({ ...common, target: "baseline", steps: baselineSteps, setup: oneGroup(members, "baseline") });
    const baselineBest = reportRamp(`Baseline (raw ws + pg, ${baseline.sockets} sockets)`, baseline.rows, p99TargetMs);
    const ratio = appBest && baselineBest ? ` = ${((appBest.rate / baselineBest.rate) * 100).toFixed(0)}% of baseline` : "";
    baselineLine = `; baseline ${describeStep(baselineBest, "deliveries")}${ratio}`;
  }
  console.log(`\nSUMMARY group: highest sustained (all persisted and delivered, p99 <= ${p99TargetMs} ms): ${describeStep(appBest, "deliveries")}${baselineLine}`);
}
