import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { env } from "~/server/env";
import { getRedis } from "~/server/redis";

// Limits on the two auth operations an attacker can call without an account.
// Sign-in: attempts are counted per account and per address *before* the password
// is checked (so parallel guesses cannot all slip past the check), and a success
// refunds them; past the limit even the right password is refused for the rest of
// the window. Sign-up: each call costs a 128 MiB scrypt, so addresses are limited.
// Counted in Redis when configured (limits hold across instances), with an
// in-memory fallback so an unreachable Redis does not lock everyone out.

const SIGN_IN_WINDOW_SECONDS = 15 * 60;
export const SIGN_IN_ATTEMPTS_PER_ACCOUNT = 10;
export const SIGN_IN_ATTEMPTS_PER_ADDRESS = 50;
const SIGN_UP_WINDOW_SECONDS = 60 * 60;

interface Limiters {
  signInAccount: RateLimiterAbstract;
  signInAddress: RateLimiterAbstract;
  signUpAddress: RateLimiterAbstract;
}

const globalForLimits = globalThis as unknown as { __chatlineAuthLimiters?: Limiters };

function limiters(): Limiters {
  if (!globalForLimits.__chatlineAuthLimiters) {
    const redis = getRedis();
    const make = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ keyPrefix, points, duration });
      return redis
        ? new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration, insuranceLimiter: memory })
        : memory;
    };
    globalForLimits.__chatlineAuthLimiters = {
      signInAccount: make("auth-signin-account", SIGN_IN_ATTEMPTS_PER_ACCOUNT, SIGN_IN_WINDOW_SECONDS),
      signInAddress: make("auth-signin-ip", SIGN_IN_ATTEMPTS_PER_ADDRESS, SIGN_IN_WINDOW_SECONDS),
      signUpAddress: make("auth-signup-ip", env().SIGN_UPS_PER_ADDRESS_PER_HOUR, SIGN_UP_WINDOW_SECONDS),
    };
  }
  return globalForLimits.__chatlineAuthLimiters;
}

/** Takes one point from each limiter; resolves to 0, or to the ms until the caller may try again. */
async function take(entries: [RateLimiterAbstract, string | null][]): Promise<number> {
  const outcomes = await Promise.all(
    entries
      .filter((entry): entry is [RateLimiterAbstract, string] => entry[1] !== null)
      .map(([limiter, key]) =>
        limiter.consume(key).then(
          () => 0,
          (rejection: unknown) => {
            if (rejection instanceof RateLimiterRes) return Math.max(1, rejection.msBeforeNext);
            throw rejection;
          },
        ),
      ),
  );
  return Math.max(0, ...outcomes);
}

export function takeSignInAttempt(email: string, ip: string | null): Promise<number> {
  const { signInAccount, signInAddress } = limiters();
  return take([
    [signInAccount, email],
    [signInAddress, ip],
  ]);
}

/** A successful sign-in clears the account's count and gives its address the attempt back. */
export async function refundSignInAttempt(email: string, ip: string | null): Promise<void> {
  const { signInAccount, signInAddress } = limiters();
  await Promise.all([signInAccount.delete(email), ip ? signInAddress.reward(ip, 1) : undefined]);
}

export function takeSignUpAttempt(ip: string | null): Promise<number> {
  return take([[limiters().signUpAddress, ip]]);
}

/** Tests start each case from a clean slate (the in-memory store; Redis keys are per test). */
export function resetAuthRateLimits(): void {
  globalForLimits.__chatlineAuthLimiters = undefined;
}
