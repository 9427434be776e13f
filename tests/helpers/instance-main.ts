// A server instance in a process of its own, for tests that run several
// instances or kill one: `node --import tsx tests/helpers/instance-main.ts`.
// Configured by the environment; prints "LISTENING <port>" once it serves.
import { startAppServer } from "~/server/http/app-server";
import { parseEnv } from "~/server/env";

const server = await startAppServer({ env: parseEnv(process.env), next: false, dev: false });
process.stdout.write(`LISTENING ${server.port}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
