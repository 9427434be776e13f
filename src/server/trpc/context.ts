import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type WebSocket from "ws";
import type { SessionUser } from "~/features/auth/contracts";
import { clientAddress } from "~/features/auth/request-origin";
import { readSession, type RequestSession } from "~/server/auth-session";
import { db, type Db } from "~/server/db/client";
import { ensureRequestId } from "~/server/http/request-id";
import { logger, type Logger } from "~/server/logger";

// One context shape for HTTP requests and WebSocket connections. It only decodes
// the cookie; loading the user is the authed middleware's job, so a bad cookie
// never makes createContext throw (a throw there makes clients retry in a storm).

export interface Context {
  transport: "http" | "ws";
  requestId: string;
  session: RequestSession | null;
  ip: string | null;
  userAgent: string | null;
  prisma: Db;
  log: Logger;
  /** Names this connection (presence counts connections, not users). */
  connectionId: string;
  /** The connection of a WebSocket context (its buffered bytes tell how far behind the client is). */
  socket: WebSocket | null;
  /**
   * The user loaded by the authed middleware; a WebSocket connection reuses it for
   * a minute, unless roles changed since (`generation`, see access-changes.ts).
   */
  userCache: { user?: SessionUser | null; loadedAt?: number; generation?: number };
}

export async function createContext(opts: {
  req: IncomingMessage;
  transport: "http" | "ws";
  socket?: WebSocket;
}): Promise<Context> {
  const { req, transport } = opts;
  const requestId = ensureRequestId(req);
  const session = await readSession(req);
  return {
    transport,
    requestId,
    session,
    ip: clientAddress(req.headers),
    userAgent: req.headers["user-agent"] ?? null,
    prisma: db(),
    log: logger.child({ requestId, transport, userId: session?.userId }),
    userCache: {},
    socket: opts.socket ?? null,
    connectionId: randomUUID(),
  };
}
