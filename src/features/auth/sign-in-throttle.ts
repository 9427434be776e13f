import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from "rate-limiter-flexible";
import { getRedis } from "~/server/redis";

// Failed sign-ins are counted per account and per address; past the limit the
// account (or address) is refused for the rest of the window, even with the right
// password, so guessing is slow. Counted in Redis when it is configured, so the
// limit holds across instances.

const WINDOW_SECONDS = 15 * 60;
const FAILURES_PER_ACCOUNT = 10;
const FAILURES_PER_ADDRESS = 50;

interface Limiters {
  account: RateLimiterAbstract;
  address: RateLimiterAbstract;
}

const globalForThrottle = globalThis as unknown as { __chatlineSignInLimiters?: Limiters };

function limiters(): Limiters {
  if (!globalForThrottle.__chatlineSignInLimiters) {
    const redis = getRedis();
    const make = (keyPrefix: string, points: number) =>
      redis
        ? new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration: WINDOW_SECONDS })
        : new RateLimiterMemory({ keyPrefix, points, duration: WINDOW_SECONDS });
    globalForThrottle.__chatlineSignInLimiters = {
      account: make("signin-fail-account", FAILURES_PER_ACCOUNT),
      address: make("signin-fail-ip", FAILURES_PER_ADDRESS),
    };
  }
  return globalForThrottle.__chatlineSignInLimiters;
}

/** Milliseconds until the account or address may try again; 0 when allowed now. */
export async function signInRetryAfterMs(email: string, ip: string | null): Promise<number> {
  const { account, address } = limiters();
  const [byAccount, byAddress] = await Promise.all([
    account.get(email),
    ip ? address.get(ip) : Promise.resolve(null),
  ]);
  const blocked = [
    { state: byAccount, points: FAILURES_PER_ACCOUNT },
    { state: byAddress, points: FAILURES_PER_ADDRESS },
  ].filter(({ state, points }) => state && state.consumedPoints >= points);
  return blocked.reduce((max, { state }) => Math.max(max, state?.msBeforeNext ?? 0), 0);
}

export async function recordSignInFailure(email: string, ip: string | null): Promise<void> {
  const { account, address } = limiters();
  // consume() rejects once the points are used up; that is the state we record, not an error.
  await Promise.all([
    account.consume(email).catch(() => undefined),
    ip ? address.consume(ip).catch(() => undefined) : undefined,
  ]);
}

export async function clearSignInFailures(email: string): Promise<void> {
  await limiters().account.delete(email);
}

/** Tests start each case from a clean slate. */
export function resetSignInThrottle(): void {
  globalForThrottle.__chatlineSignInLimiters = undefined;
}
