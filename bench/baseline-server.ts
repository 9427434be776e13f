// The baseline: the least a server can do for the same work, on raw `ws` and `pg`.
// A client connects with ?user=<id>; each frame {conversationId, to: [user ids], content, id}
// is inserted (one prepared single-row INSERT ... RETURNING, as a send is) and then
// forwarded to the recipients' sockets (serialized once) and acknowledged to the sender. No auth, no
// validation, no event log: each benchmark figure is also given as a ratio to this.
//
//   DATABASE_URL=postgresql://... PORT=0 node --import tsx bench/baseline-server.ts
import { createServer } from "node:http";
import pg from "pg";
import { WebSocketServer, type WebSocket } from "ws";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.BASELINE_POOL_SIZE ?? 16) });
await pool.query(`CREATE TABLE IF NOT EXISTS baseline_messages (
  id bigserial PRIMARY KEY,
  conversation_id uuid NOT NULL,
  sender_id uuid NOT NULL,
  content text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now())`);

const sockets = new Map<string, Set<WebSocket>>();
const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server });

wss.on("connection", (socket, req) => {
  const user = new URL(req.url ?? "/", "http://baseline").searchParams.get("user") ?? "";
  let mine = sockets.get(user);
  if (!mine) sockets.set(user, (mine = new Set()));
  mine.add(socket);
  socket.on("close", () => mine.delete(socket));
  socket.on("message", async (data) => {
    const frame = JSON.parse(String(data)) as { id: number; conversationId: string; to: string[]; content: string };
    try {
      const { rows } = await pool.query({
        name: "baseline-insert",
        text: "INSERT INTO baseline_messages (conversation_id, sender_id, content) VALUES ($1, $2, $3) RETURNING id, created_at",
        values: [frame.conversationId, user, frame.content],
      });
      const event = JSON.stringify({ type: "message", id: rows[0].id, senderId: user, content: frame.content });
      for (const userId of frame.to) for (const recipient of sockets.get(userId) ?? []) recipient.send(event);
      socket.send(JSON.stringify({ type: "ack", id: frame.id }));
    } catch (error) {
      socket.send(JSON.stringify({ type: "error", id: frame.id, message: String(error) }));
    }
  });
});

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`LISTENING ${typeof address === "object" && address ? address.port : 0}\n`);
});
const stop = () => {
  wss.close();
  server.close();
  void pool.end().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
