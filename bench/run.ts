// The benchmark harness: `npm run bench -- <scenario> [--option value ...]`.
// Each scenario prints its tables and a final one-line SUMMARY. bench/RESULTS.md
// records the figures, the command and the machine. Needs DATABASE_URL (a real
// PostgreSQL); see bench/README.md.
import { parseArgs } from "./lib/args";
import { runChaos } from "./scenarios/chaos";
import { runColdstart } from "./scenarios/coldstart";
import { runDirect } from "./scenarios/direct";
import { runGroup } from "./scenarios/group";
import { runHistory } from "./scenarios/history";
import { runIdle } from "./scenarios/idle";
import { runSearch } from "./scenarios/search";
import { runUploads } from "./scenarios/uploads";

const scenarios: Record<string, (options: Map<string, string>) => Promise<void>> = {
  chaos: runChaos,
  coldstart: runColdstart,
  direct: runDirect,
  group: runGroup,
  history: runHistory,
  idle: runIdle,
  search: runSearch,
  uploads: runUploads,
};

const [name, ...rest] = process.argv.slice(2);
const scenario = name ? scenarios[name] : undefined;
if (!scenario) {
  console.error(`usage: npm run bench -- <${Object.keys(scenarios).join("|")}> [--option value ...]`);
  process.exit(2);
}
await scenario(parseArgs(rest));
process.exit(0);
