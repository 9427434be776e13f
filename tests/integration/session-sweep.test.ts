import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as authService from "~/features/auth/auth.service";
import type { NodeTrpcClient } from "~/trpc/node-client";
import { collectEvents } from "../helpers/event-collector";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// Open event streams are re-checked together: one look-up of every connected user
// per sweep (SOCKET_SESSION_CHECK_MS, 200 ms in tests), not one per stream, and
// each stream ends on its own user's state.

let t: TestServer;
const people: { id: string; client: NodeTrpcClient; events: ReturnType<typeof collectEvents> }[] = [];

beforeAll(async () => {
  t = await startTestServer();
  for (const name of ["Ana", "Ben", "Cleo", "Dan", "Eve"]) {
    const user = await t.createUser({ name });
    const client = await t.client({ userId: user.id, origin: TEST_APP_ORIGIN });
    const events = collectEvents(client);
    await events.ready();
    people.push({ id: user.id, client, events });
  }
});
afterAll(async () => {
  for (const person of people) person.events.stop();
  await t?.close();
});

describe("the session sweep", () => {
  it("looks every open stream's user up in one query per sweep", async () => {
    const lookups = vi.spyOn(authService, "loadSessionUsers");
    await vi.waitFor(() => expect(lookups.mock.calls.length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    // Each look-up covers every open stream's user (a stream being replaced may add a repeat).
    for (const [, ids] of lookups.mock.calls) expect(new Set(ids)).toEqual(new Set(people.map((person) => person.id)));
    lookups.mockRestore();
  });

  it("ends the stream of a disabled account only", async () => {
    const cleo = people[2]!;
    await t.server.database.prisma.user.update({ where: { id: cleo.id }, data: { disabledAt: new Date() } });
    await vi.waitFor(() => expect(cleo.events.errors).toHaveLength(1), { timeout: 5_000 });
    expect((cleo.events.errors[0] as { data?: { code?: string } }).data?.code).toBe("UNAUTHORIZED");
    // A few more sweeps: the others stay open.
    const lookups = vi.spyOn(authService, "loadSessionUsers");
    await vi.waitFor(() => expect(lookups.mock.calls.length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    lookups.mockRestore();
    for (const person of people.filter((p) => p !== cleo)) expect(person.events.errors).toEqual([]);
  });
});
