// The product's server without Next.js pages (tRPC over HTTP and WebSocket, the
// event bus, the database): what the benchmarks load. Started by bench/lib/servers.ts
// in a process of its own; prints "LISTENING <port>" once it serves.
import { startAppServer } from "~/server/http/app-server";
import { parseEnv } from "~/server/env";

const server = await startAppServer({ env: parseEnv(process.env), next: false, dev: false });
process.stdout.write(`LISTENING ${server.port}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
