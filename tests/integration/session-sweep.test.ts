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

describe("the sweep's question", () => {
  it("answers as loading each session user would: gone, disabled, roleless and permission-less accounts are out", async () => {
    const prisma = t.server.database.prisma;
    const member = await t.createUser({ name: "Member" });
    const admin = await t.createUser({ name: "Admin", roles: ["Admin"] });
    const disabled = await t.createUser({ name: "Disabled" });
    await prisma.user.update({ where: { id: disabled.id }, data: { disabledAt: new Date() } });
    const roleless = await t.createUser({ name: "Roleless" });
    await prisma.userRole.deleteMany({ where: { userId: roleless.id } });
    const gone = "00000000-0000-4000-8000-000000000000";
    const ids = [member.id, admin.id, disabled.id, roleless.id, gone];
    for (const permission of ["messaging:access", "messaging:settings:write", "roles:manage"] as const) {
      const expected = new Set<string>();
      for (const id of ids) if ((await authService.loadSessionUser(prisma, id))?.permissions.includes(permission)) expected.add(id);
      expect(await authService.usersHoldingPermission(prisma, ids, permission)).toEqual(expected);
    }
    expect(await authService.usersHoldingPermission(prisma, [member.id], "messaging:access")).toEqual(new Set([member.id]));
  });
});

describe("the session sweep", () => {
  it("looks every open stream's user up in one query per sweep", async () => {
    const lookups = vi.spyOn(authService, "usersHoldingPermission");
    await vi.waitFor(() => expect(lookups.mock.calls.length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    // Each look-up covers every open stream's user (a stream being replaced may add a repeat).
    for (const [, ids, permission] of lookups.mock.calls) {
      expect(new Set(ids)).toEqual(new Set(people.map((person) => person.id)));
      expect(permission).toBe("messaging:access");
    }
    lookups.mockRestore();
  });

  it("ends the stream of a disabled account only", async () => {
    const cleo = people[2]!;
    await t.server.database.prisma.user.update({ where: { id: cleo.id }, data: { disabledAt: new Date() } });
    await vi.waitFor(() => expect(cleo.events.errors).toHaveLength(1), { timeout: 5_000 });
    expect((cleo.events.errors[0] as { data?: { code?: string } }).data?.code).toBe("UNAUTHORIZED");
    // A few more sweeps: the others stay open.
    const lookups = vi.spyOn(authService, "usersHoldingPermission");
    await vi.waitFor(() => expect(lookups.mock.calls.length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    lookups.mockRestore();
    for (const person of people.filter((p) => p !== cleo)) expect(person.events.errors).toEqual([]);
  });
});
