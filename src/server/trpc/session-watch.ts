import { usersHoldingPermission } from "~/features/auth/auth.service";
import type { PermissionKey } from "~/features/permissions/catalog";
import { onAccessChange } from "~/features/roles/access-changes";
import type { Db } from "~/server/db/client";
import type { Context } from "./context";

// A subscription outlives the check made when it opened, so open streams are
// re-checked: the cookie has not expired, the account still exists, is enabled
// and holds the permission. One sweeper per interval does it for every open
// stream of the process with one query that only answers who still may (no
// user objects built), not a query per stream (at 10,000 idle sockets,
// per-stream checks cost most of a core: see bench/RESULTS.md, "idle"). A role
// or permission change anywhere sweeps at once.

/** After a role change: soon, and once for a burst of changes. */
const ACCESS_CHANGE_DELAY_MS = 100;

interface Watcher {
  ctx: Context;
  permission: PermissionKey;
  end(): void;
}

class SessionSweeper {
  private readonly watchers = new Set<Watcher>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private soon: ReturnType<typeof setTimeout> | undefined;
  private stopListening: (() => void) | undefined;
  private running = false;
  private again = false;

  constructor(private readonly intervalMs: number) {}

  add(watcher: Watcher): void {
    this.watchers.add(watcher);
    if (this.watchers.size === 1) this.start();
  }

  remove(watcher: Watcher): void {
    if (!this.watchers.delete(watcher) || this.watchers.size > 0) return;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.soon = undefined;
    this.stopListening?.();
  }

  private start(): void {
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.stopListening = onAccessChange(() => {
      this.soon ??= setTimeout(() => {
        this.soon = undefined;
        void this.sweep();
      }, ACCESS_CHANGE_DELAY_MS);
    });
  }

  private async sweep(): Promise<void> {
    // A sweep asked for while one runs (a role change mid-query) runs after it.
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.checkAll();
      } while (this.again);
    } finally {
      this.running = false;
    }
  }

  private async checkAll(): Promise<void> {
    const now = Date.now();
    // Grouped by database (tests run several servers in one process) and permission.
    const groups = new Map<Db, Map<PermissionKey, Watcher[]>>();
    for (const watcher of this.watchers) {
      const session = watcher.ctx.session;
      if (!session || (session.expiresAt && session.expiresAt.getTime() <= now)) {
        watcher.end();
        continue;
      }
      const byPermission = groups.get(watcher.ctx.prisma) ?? new Map<PermissionKey, Watcher[]>();
      groups.set(watcher.ctx.prisma, byPermission);
      const group = byPermission.get(watcher.permission) ?? [];
      group.push(watcher);
      byPermission.set(watcher.permission, group);
    }
    for (const [prisma, byPermission] of groups) {
      for (const [permission, watchers] of byPermission) {
        const allowed = await usersHoldingPermission(
          prisma,
          watchers.map((watcher) => watcher.ctx.session!.userId),
          permission,
        ).catch(() => undefined);
        // A failed check (database hiccup) is not an ended session: look again next time.
        if (!allowed) continue;
        for (const watcher of watchers) {
          // A stream that closed while the query ran is left alone.
          if (!this.watchers.has(watcher) || allowed.has(watcher.ctx.session!.userId)) continue;
          // The connection's other calls must not keep using the user it cached.
          watcher.ctx.userCache.loadedAt = undefined;
          watcher.end();
        }
      }
    }
  }
}

const globalForSweepers = globalThis as unknown as { __chatlineSessionSweepers?: Map<number, SessionSweeper> };

function sweeperFor(intervalMs: number): SessionSweeper {
  const sweepers = (globalForSweepers.__chatlineSessionSweepers ??= new Map());
  let sweeper = sweepers.get(intervalMs);
  if (!sweeper) sweepers.set(intervalMs, (sweeper = new SessionSweeper(intervalMs)));
  return sweeper;
}

/**
 * Watches a subscription's session: re-checked every `intervalMs` (with every other
 * open stream of the process) and soon after any role or permission change. The
 * returned signal is aborted (also with the call's own) once the session no
 * longer allows `permission`.
 */
export function watchSession(ctx: Context, permission: PermissionKey, intervalMs: number, callSignal: AbortSignal | undefined) {
  const controller = new AbortController();
  callSignal?.addEventListener("abort", () => controller.abort(), { once: true });
  let ended = false;
  const sweeper = sweeperFor(intervalMs);
  const watcher: Watcher = {
    ctx,
    permission,
    end() {
      if (ended) return;
      ended = true;
      sweeper.remove(watcher);
      controller.abort();
    },
  };
  sweeper.add(watcher);
  return {
    signal: controller.signal,
    get ended() {
      return ended;
    },
    stop: () => sweeper.remove(watcher),
  };
}
