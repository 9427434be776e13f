import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_USERS } from "~/features/auth/demo-users";
import { startAppServer } from "~/server/http/app-server";
import { parseEnv } from "~/server/env";
import { TRPC_WS_PATH } from "~/trpc/shared";
import { startTestServer, TEST_AUTH_SECRET } from "../helpers/test-server";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("the embedded default", () => {
  it("creates demo users on first start and keeps all data across a restart", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "chatline-embedded-"));
    dirs.push(dataDir);
    // No DATABASE_URL: what a newcomer gets.
    const env = parseEnv({ NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", DATA_DIR: dataDir, NEXTAUTH_SECRET: TEST_AUTH_SECRET });

    const first = await startAppServer({ env, next: false, dev: false });
    expect(first.embedded).toBe(true);
    const demoEmails = (await first.database.prisma.user.findMany({ select: { email: true } })).map((u) => u.email).sort();
    expect(demoEmails).toEqual(DEMO_USERS.map((u) => u.email).sort());
    await first.database.prisma.user.create({ data: { email: "kept@example.com", name: "Kept" } });
    await first.database.prisma.user.delete({ where: { email: "dev@example.com" } });
    await first.close();

    const second = await startAppServer({ env, next: false, dev: false });
    const emails = (await second.database.prisma.user.findMany({ select: { email: true } })).map((u) => u.email);
    expect(emails).toContain("kept@example.com");
    // Demo users come only with an empty database: a deleted one stays deleted.
    expect(emails).not.toContain("dev@example.com");
    expect(await second.database.prisma.role.count()).toBe(3);
    expect(await second.database.prisma.messagingSettings.count()).toBe(1);
    await second.close();
  }, 90_000); // two embedded starts (PGlite in Wasm): about 15 s alone, much more beside other files

  it("refuses a second start on the same data folder, and releases it after a failed start", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "chatline-double-"));
    dirs.push(dataDir);
    const envFor = (port: string) =>
      parseEnv({ NODE_ENV: "test", HOST: "127.0.0.1", PORT: port, DATA_DIR: dataDir, NEXTAUTH_SECRET: TEST_AUTH_SECRET });
    const running = await startAppServer({ env: envFor("0"), next: false, dev: false });
    await expect(startAppServer({ env: envFor("0"), next: false, dev: false })).rejects.toThrow(/in use by process/);
    await running.close();

    // A start that fails late, on a port someone else holds, must leave the folder free again.
    const { createServer } = await import("node:net");
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const takenPort = String((squatter.address() as { port: number }).port);
    await expect(startAppServer({ env: envFor(takenPort), next: false, dev: false })).rejects.toThrow(/EADDRINUSE/);
    squatter.close();
    const again = await startAppServer({ env: envFor("0"), next: false, dev: false });
    expect(await again.database.prisma.role.count()).toBe(3);
    await again.close();
  });

  it("refuses a second process on the same data folder", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "chatline-locked-"));
    dirs.push(dataDir);
    const env = parseEnv({ NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", DATA_DIR: dataDir, NEXTAUTH_SECRET: TEST_AUTH_SECRET });
    const { writeFile } = await import("node:fs/promises");
    // A live process (our parent, the test runner) owns the folder.
    await writeFile(path.join(dataDir, "chatline.lock"), String(process.ppid));
    await expect(startAppServer({ env, next: false, dev: false })).rejects.toThrow(/in use by process/);
  });
});

describe("health and shutdown", () => {
  it("reports the database (and Redis when configured) in /api/health", async () => {
    const t = await startTestServer();
    try {
      const response = await fetch(`${t.baseUrl}/api/health`);
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body).toMatchObject({ status: "ok", database: { status: "up", kind: "postgresql" } });
      if (process.env.REDIS_URL) expect(body.redis).toMatchObject({ status: "up" });
      else expect(body.redis).toBeUndefined();
      // Every response carries the request id its log lines carry; a caller's own id is kept.
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      const traced = await fetch(`${t.baseUrl}/api/health`, { headers: { "x-request-id": "edge-42" } });
      expect(traced.headers.get("x-request-id")).toBe("edge-42");
      const odd = await fetch(`${t.baseUrl}/api/health`, { headers: { "x-request-id": "not a token; <script>" } });
      expect(odd.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await t.close();
    }
  });

  it("reports a broken Redis as degraded with 503", async () => {
    // Port 1 on loopback: nothing listens there.
    const t = await startTestServer({ REDIS_URL: "redis://127.0.0.1:1" });
    try {
      const response = await fetch(`${t.baseUrl}/api/health`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: "degraded", database: { status: "up" }, redis: { status: "down" } });
    } finally {
      await t.close();
    }
  });

  it("tells connected clients to reconnect, closes their sockets and stops accepting", async () => {
    const t = await startTestServer();
    const socket = new WebSocket(`${t.baseUrl.replace(/^http/, "ws")}${TRPC_WS_PATH}`);
    await new Promise((resolve) => socket.once("open", resolve));
    const messages: unknown[] = [];
    socket.on("message", (data) => messages.push(JSON.parse(String(data))));
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));

    await t.close();
    expect(messages).toContainEqual({ id: null, method: "reconnect" });
    expect(await closed).toBe(1012);
    await expect(fetch(`${t.baseUrl}/api/health`)).rejects.toThrow();
  });
});
