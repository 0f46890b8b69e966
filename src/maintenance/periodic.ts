import type { Logger } from "../log";

export interface PeriodicTask {
  /** No new runs; resolves once the run under way (if any) has finished. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs`, one run at a time (a slow run delays the next, never overlaps
 * it), never keeping the process alive; a failed run is logged and the schedule goes on.
 */
export function every(intervalMs: number, name: string, task: () => Promise<void>, log: Logger): PeriodicTask {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const run = (): Promise<void> => {
    running = running.then(async () => {
      if (stopped) return;
      try {
        await task();
      } catch (error) {
        log.warn(`${name} failed; will retry`, { error: String(error) });
      }
    });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void run().then(schedule), intervalMs);
    (timer as { unref?: () => void }).unref?.();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
