import type { Logger } from "../log";
import { DependencyUnavailableError } from "../domain/errors";

const describe = (error: unknown): string =>
  error instanceof DependencyUnavailableError && error.cause !== undefined
    ? `${error.message}: ${String(error.cause)}`
    : String(error);

/**
 * Retries `open` while the service is unavailable, until `timeoutMs` passes, logging what it
 * waits for and why. Any other error (a schema or dimension mismatch) is final at once.
 */
export async function waitFor<T>(what: string, open: () => Promise<T>, log: Logger, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError)) throw error;
      if (Date.now() + delay > deadline) {
        throw new Error(`${what} did not become available within ${Math.round(timeoutMs / 1000)} s: ${describe(error)}`);
      }
      log.warn(`waiting for ${what}`, { attempt, error: describe(error), retry_in_ms: delay });
      await Bun.sleep(delay);
      delay = Math.min(delay * 2, 4000);
    }
  }
}
