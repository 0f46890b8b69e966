import type { Logger } from "../log";

/** Retries `open` until it succeeds or `timeoutMs` passes, logging what it waits for. */
export async function waitFor<T>(what: string, open: () => Promise<T>, log: Logger, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      if (Date.now() + delay > deadline) {
        throw new Error(`${what} did not become available within ${Math.round(timeoutMs / 1000)} s: ${String(error)}`);
      }
      log.warn(`waiting for ${what}`, { attempt, error: String(error), retry_in_ms: delay });
      await Bun.sleep(delay);
      delay = Math.min(delay * 2, 4000);
    }
  }
}
