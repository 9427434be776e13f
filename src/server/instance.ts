import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/** Names this server process among several instances (logs, health, events). */
export const instanceId = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
