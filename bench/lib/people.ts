import { randomUUID } from "node:crypto";
import { encode } from "next-auth/jwt";
import pg from "pg";
import { BENCH_ORIGIN, BENCH_SECRET } from "./servers";

// Benchmark users: written straight into the database (thousands in one statement),
// each with the "User" role and a session cookie minted with the server's secret,
// exactly as next-auth would issue it.

export interface BenchUser {
  id: string;
  cookie: string;
}

export async function createUsers(databaseUrl: string, count: number, label: string): Promise<BenchUser[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const ids = Array.from({ length: count }, () => randomUUID());
    const names = ids.map((_, i) => `${label} ${i + 1}`);
    const emails = ids.map((id) => `${label}-${id}@bench.test`);
    await client.query(
      `INSERT INTO users (id, name, email, updated_at) SELECT * , now() FROM unnest($1::uuid[], $2::text[], $3::text[])`,
      [ids, names, emails],
    );
    await client.query(
      `INSERT INTO user_roles (user_id, role_id) SELECT u, r.id FROM unnest($1::uuid[]) AS u, roles r WHERE r.name = 'User'`,
      [ids],
    );
    return Promise.all(
      ids.map(async (id) => ({
        id,
        cookie: `next-auth.session-token=${await encode({ token: { sub: id }, secret: BENCH_SECRET, maxAge: 24 * 3600 })}`,
      })),
    );
  } finally {
    await client.end();
  }
}

/** Creates a direct conversation through the real API (tRPC over HTTP). */
export async function createDirect(baseUrl: string, from: BenchUser, to: BenchUser): Promise<string> {
  const response = await fetch(`${baseUrl}/api/trpc/conversations.createDirect`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: from.cookie, origin: BENCH_ORIGIN },
    body: JSON.stringify({ json: { recipientId: to.id } }),
  });
  if (!response.ok) throw new Error(`createDirect answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { result: { data: { json: { id: string } } } };
  return body.result.data.json.id;
}

/** Creates a group through the real API (tRPC over HTTP), `owner` and `members` in it. */
export async function createGroup(baseUrl: string, owner: BenchUser, members: BenchUser[], name: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/trpc/conversations.createGroup`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: owner.cookie, origin: BENCH_ORIGIN },
    body: JSON.stringify({ json: { name, participantIds: members.map((member) => member.id) } }),
  });
  if (!response.ok) throw new Error(`createGroup answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { result: { data: { json: { id: string } } } };
  return body.result.data.json.id;
}
