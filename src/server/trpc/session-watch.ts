import type { PermissionKey } from "~/features/permissions/catalog";
import { onAccessChange } from "~/features/roles/access-changes";
import type { Context } from "./context";
import { sessionStillAllows } from "./trpc";

/** A role change makes every open stream re-check; spread over this long so they do not all query at once. */
const ACCESS_CHANGE_SPREAD_MS = 2_000;

/**
 * For a subscription, which outlives the check made when it opened: re-checks
 * the session every `intervalMs`, and soon after any role or permission change,
 * and aborts the returned signal (also aborted with the call's own) once it no
 * longer allows `permission`.
 */
export function watchSession(ctx: Context, permission: PermissionKey, intervalMs: number, callSignal: AbortSignal | undefined) {
  const controller = new AbortController();
  callSignal?.addEventListener("abort", () => controller.abort(), { once: true });
  let ended = false;
  const check = () => {
    if (ended || controller.signal.aborted) return;
    sessionStillAllows(ctx, permission).then(
      (allowed) => {
        if (allowed) return;
        ended = true;
        controller.abort();
      },
      // A failed check (database hiccup) is not an ended session: look again next time.
      () => undefined,
    );
  };
  const timer = setInterval(check, intervalMs);
  let soon: ReturnType<typeof setTimeout> | undefined;
  const stopListening = onAccessChange(() => {
    if (soon) return;
    soon = setTimeout(() => {
      soon = undefined;
      check();
    }, Math.random() * ACCESS_CHANGE_SPREAD_MS);
  });
  return {
    signal: controller.signal,
    get ended() {
      return ended;
    },
    stop: () => {
      clearInterval(timer);
      clearTimeout(soon);
      stopListening();
    },
  };
}
