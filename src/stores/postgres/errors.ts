import { DependencyUnavailableError } from "../../domain/errors.ts";

/** Socket-level failures: the database cannot be reached or went away mid-query. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNABORTED",
  "ERR_SOCKET_CLOSED",
  "ERR_STREAM_DESTROYED",
]);

/** SQLSTATEs after which the connection itself is gone. */
const CONNECTION_LOST_SQLSTATES = new Set(["57P01", "57P02", "57P03"]);

/**
 * SQLSTATEs that say "the server is not usable now", not "your statement is wrong":
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300
 * too_many_connections, 57014 query_canceled (our statement_timeout under overload), 55P03
 * lock_not_available (a lock_timeout), 08xxx connection exceptions.
 */
const UNAVAILABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "57014", "55P03"]);

/** Messages node-postgres uses for a pool or connection that cannot serve a query. */
const UNAVAILABLE_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|connection timeout|not queryable|Client was closed|Cannot use a pool after calling end/i;

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** True when `error` means PostgreSQL is unreachable or refusing work (a 503), not a bad statement. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof DependencyUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = codeOf(error);
  if (code !== undefined) {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith("08")) return true;
  }
  if (error instanceof AggregateError && error.errors.some(isUnavailable)) return true;
  // A pg DatabaseError always has a SQLSTATE; only driver-made errors are matched by message.
  if (code === undefined && UNAVAILABLE_MESSAGES.test(error.message)) return true;
  return false;
}

/** True when the connection that raised `error` cannot be used again (the pool must discard it). */
export function isConnectionBroken(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = codeOf(error);
  if (code !== undefined) {
    return NETWORK_CODES.has(code) || CONNECTION_LOST_SQLSTATES.has(code) || code.startsWith("08");
  }
  return UNAVAILABLE_MESSAGES.test(error.message);
}

/** The error to throw to callers: unavailability becomes DependencyUnavailableError("postgres"). */
export function translateError(error: unknown): unknown {
  if (error instanceof DependencyUnavailableError) return error;
  return isUnavailable(error) ? new DependencyUnavailableError("postgres", 2, error) : error;
}

/** SQLSTATEs after which re-running the whole (atomic) statement is safe and likely to succeed. */
export function isRetryable(error: unknown): boolean {
  const code = codeOf(error);
  return code === "40P01" || code === "40001";
}

/** A row that references a missing one (a memory of a collection deleted meanwhile). */
export function isForeignKeyViolation(error: unknown): boolean {
  return codeOf(error) === "23503";
}

export function isUniqueViolation(error: unknown, constraint: string): boolean {
  return (
    codeOf(error) === "23505" && (error as { constraint?: unknown }).constraint === constraint
  );
}

/** A short, content-free description of an error for logs and the outbox's last_error. */
export function describeError(error: unknown): string {
  const text =
    error instanceof Error ? `${error.name}${codeOf(error) ? ` ${codeOf(error)}` : ""}: ${error.message}` : String(error);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
