import { TRPCClientError } from "@trpc/client";

/** The tRPC error code a call ends with, or "allowed" when it succeeds; anything else is rethrown. */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return (error.data as { code?: string } | undefined)?.code;
    throw error;
  }
  return "allowed";
}
