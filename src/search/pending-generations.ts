import type { Logger } from "../log";
import type { SearchCache } from "../ports/search-cache";

/**
 * Generation bumps that failed (the cache was unreachable when a write was acknowledged), retried
 * until they land. Until then this worker bypasses the cache for those collections: answers
 * cached before the write would otherwise be served again once the cache is back (Redis keeps
 * its data across a restart), which is the stale-after-write bug read-your-writes exists to end.
 */
export class PendingGenerations {
  private readonly pending = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastWarning = 0;

  constructor(
    private readonly deps: {
      cache: Pick<SearchCache, "bumpGeneration">;
      log: Logger;
      /** After a bump lands (pre-warming). */
      onBumped?: (collectionId: string) => void;
      retryMs?: number;
    },
  ) {}

  /** Bumps now; on failure keeps the collection pending and retries in the background. */
  async bump(collectionId: string): Promise<void> {
    try {
      await this.deps.cache.bumpGeneration(collectionId);
    } catch (error) {
      this.pending.add(collectionId);
      this.schedule();
      // at most one line every 10 s: an outage at full load must not become a flood of logs
      if (Date.now() - this.lastWarning > 10_000) {
        this.lastWarning = Date.now();
        this.deps.log.error("could not bump collection generation; its searches bypass the cache until it lands", {
          collection_id: collectionId,
          pending: this.pending.size,
          error,
        });
      }
      return;
    }
    this.pending.delete(collectionId);
    this.deps.onBumped?.(collectionId);
  }

  /** Whether a write to this collection is not yet reflected in the cache's generation. */
  has(collectionId: string): boolean {
    return this.pending.size > 0 && this.pending.has(collectionId);
  }

  get size(): number {
    return this.pending.size;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => void this.retry(), this.deps.retryMs ?? 1000);
    this.timer.unref?.();
  }

  private async retry(): Promise<void> {
    this.timer = undefined;
    for (const collectionId of [...this.pending]) {
      try {
        await this.deps.cache.bumpGeneration(collectionId);
      } catch {
        break; // still unreachable: try again later
      }
      this.pending.delete(collectionId);
      this.deps.log.info("collection generation bumped after the cache came back", { collection_id: collectionId });
      this.deps.onBumped?.(collectionId);
    }
    if (this.pending.size > 0) this.schedule();
  }
}
