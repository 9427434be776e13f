// Errors the domain services throw. They know nothing of tRPC or HTTP; the tRPC
// layer maps each code to the matching TRPCError, so callers get a typed error.

export type DomainErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PRECONDITION_FAILED"
  | "TOO_MANY_REQUESTS";

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: { retryAfterMs?: number },
  ) {
    super(message);
    this.name = "DomainError";
  }
}
