import { DependencyUnavailableError } from "../../domain/errors.ts";

/** The answer status every Milvus call carries. */
export interface MilvusStatus {
  error_code?: string | number;
  code?: number;
  reason?: string;
  retriable?: boolean;
}

/** Milvus error codes (2.3 `merr`) that mean "the service cannot answer now", not "bad request". */
const UNAVAILABLE_CODES = new Set([
  1, // ServiceNotReady
  2, // ServiceUnavailable
  3, // ServiceMemoryLimitExceeded
  4, // ServiceRequestLimitExceeded
  100, // CollectionNotFound: dropped under us; health turns not ready
  101, // CollectionNotLoaded
]);

const UNAVAILABLE_TEXT =
  /UNAVAILABLE|DEADLINE_EXCEEDED|No connection established|ECONNREFUSED|ECONNRESET|EPIPE|Connection dropped|Socket closed|not ready|not loaded|no available|rate limit|memory quota/i;

/** The collection is not loaded (Milvus restarted, someone released it): the index reloads it. */
export class CollectionNotLoadedError extends DependencyUnavailableError {
  constructor(cause?: unknown) {
    super("milvus", 2, cause);
  }
}

/** Throws unless `status` is Success: a DependencyUnavailableError when Milvus cannot serve now. */
export function checkStatus(status: MilvusStatus | undefined, what: string): void {
  if (status === undefined) throw new Error(`milvus ${what}: no status in the answer`);
  if (status.error_code === "Success" || status.error_code === 0) return;
  const error = new Error(`milvus ${what}: ${status.reason || String(status.error_code)} (code ${status.code ?? "?"})`);
  if (status.code === 101 || /collection not loaded/i.test(status.reason ?? "")) throw new CollectionNotLoadedError(error);
  if (status.retriable === true || UNAVAILABLE_CODES.has(status.code ?? -1) || UNAVAILABLE_TEXT.test(status.reason ?? "")) {
    throw new DependencyUnavailableError("milvus", 2, error);
  }
  throw error;
}

/** A thrown call failure: connection-level ones become DependencyUnavailableError("milvus"). */
export function translateError(error: unknown, what: string): Error {
  if (error instanceof DependencyUnavailableError) return error;
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  // gRPC 1 CANCELLED (the call was cut when Milvus went away, e.g. while it restarts),
  // 4 DEADLINE_EXCEEDED, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE (the SDK sometimes wraps the gRPC
  // error in a plain Error, keeping only its message, even twice: "Error: 1 CANCELLED: …").
  if (code === 1 || code === 4 || code === 8 || code === 14 || UNAVAILABLE_TEXT.test(message) || /^(Error: )*1 CANCELLED\b/.test(message)) {
    return new DependencyUnavailableError("milvus", 2, error);
  }
  return error instanceof Error ? error : new Error(`milvus ${what}: ${message}`);
}
