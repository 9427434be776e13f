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

/** A refused call as the client sees it: the message and the error formatter's data. */
export interface ClientErrorShape {
  message: string;
  data: {
    code: string;
    httpStatus: number;
    zodError: { formErrors: string[]; fieldErrors: Record<string, string[]> } | null;
    retryAfterMs: number | null;
  };
}

/** The error a call must end with; a call that succeeds fails the test. */
export async function errorOf(promise: Promise<unknown>): Promise<ClientErrorShape> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return error as unknown as ClientErrorShape;
    throw error;
  }
  throw new Error("expected the call to fail");
}
