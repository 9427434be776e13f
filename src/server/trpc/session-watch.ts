import type { PermissionKey } from "~/features/permissions/catalog";
import type { Context } from "./context";
import { sessionStillAllows } from "./trpc";

/**
 * For a subscription, which outlives the check made when it opened: re-checks
 * the session every `intervalMs` and aborts the returned signal (also aborted
 * with the call's own) once it no longer allows `permission`.
 */
export function watchSession(ctx: Context, permission: PermissionKey, intervalMs: number, callSignal: AbortSignal | undefined) {
  const controller = new AbortController();
  callSignal?.addEventListener("abort", () => controller.abort(), { once: true });
  let ended = false;
  const timer = setInterval(() => {
    sessionStillAllows(ctx, permission).then(
      (allowed) => {
        if (allowed) return;
        ended = true;
        controller.abort();
      },
      // A failed check (database hiccup) is not an ended session: look again next time.
      () => undefined,
    );
  }, intervalMs);
  return {
    signal: controller.signal,
    get ended() {
      return ended;
    },
    stop: () => clearInterval(timer),
  };
}
