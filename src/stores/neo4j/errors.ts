import { isRetriableError } from "neo4j-driver";
import { DependencyUnavailableError } from "../../domain/errors.ts";

const UNAVAILABLE_TEXT = /Connection acquisition timed out|Failed to connect|ECONNREFUSED|ECONNRESET|EPIPE|connection.*(closed|lost|terminated)|Pool is closed|took longer than/i;

/**
 * Connection-level failures (server unreachable, session expired, transient errors the driver
 * already retried within its retry time, a pool that cannot hand out a connection in time)
 * become DependencyUnavailableError("neo4j"); statement errors stay as they are.
 */
export function translateError(error: unknown): unknown {
  if (error instanceof DependencyUnavailableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if ((error instanceof Error && isRetriableError(error)) || UNAVAILABLE_TEXT.test(message)) {
    return new DependencyUnavailableError("neo4j", 2, error);
  }
  return error;
}

/**
 * Runs `work`, translating what it throws; with `boundMs`, gives up after that long (a server
 * that stops answering mid-transaction is not bounded by the driver: the outbox needs writers
 * to bound their calls). A late outcome is ignored.
 */
export async function translated<T>(work: () => Promise<T>, boundMs?: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    if (boundMs === undefined) return await work();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DependencyUnavailableError("neo4j", 2, new Error(`neo4j took longer than ${boundMs} ms`))), boundMs);
    });
    return await Promise.race([work(), deadline]);
  } catch (error) {
    throw translateError(error);
  } finally {
    clearTimeout(timer);
  }
}
