import type { Logger } from "../log";
import type { SearchPopularity } from "../ports/search-popularity";

export interface PrewarmerOptions {
  /** Absent: pre-warming is off. */
  popularity?: SearchPopularity;
  /** Searches recomputed per collection; 0 turns pre-warming off. */
  top: number;
  /** Computes (and caches) one search from its descriptor: "skipped", or "gone" when the collection is not (or no longer) the descriptor's user's. */
  warm(collectionId: string, descriptor: string): Promise<"warmed" | "skipped" | "gone">;
  log: Logger;
}

export interface PrewarmStats {
  passes: number;
  warmed: number;
  failed: number;
}

/**
 * Recomputes the most popular searches of a collection in the background, so a write does not
 * turn into a storm of cold misses. Passes are coalesced: one at a time per collection, and a
 * write during a pass restarts it from the most popular search (searches already warmed under
 * the old generation are stale anyway). A pass is sequential, so it takes one request's worth
 * of CPU at a time next to the traffic.
 */
export class Prewarmer {
  readonly stats: PrewarmStats = { passes: 0, warmed: 0, failed: 0 };
  private readonly running = new Map<string, { dirty: boolean }>();
  private lastWarning = 0;

  constructor(private readonly options: PrewarmerOptions) {}

  get enabled(): boolean {
    return this.options.popularity !== undefined && this.options.top > 0;
  }

  /** A write bumped `collectionId`'s generation. Returns at once; the pass runs in the background. */
  afterWrite(collectionId: string): void {
    if (!this.enabled) return;
    const pass = this.running.get(collectionId);
    if (pass) {
      pass.dirty = true;
      return;
    }
    void this.run(collectionId);
  }

  /** Warms the most searched collections (at worker start). Resolves when done. */
  async warmStart(collections: number): Promise<{ collections: number; searches: number }> {
    if (!this.enabled || collections <= 0) return { collections: 0, searches: 0 };
    const before = this.stats.warmed;
    let ids: string[] = [];
    try {
      ids = await this.options.popularity!.topCollections(collections);
    } catch (error) {
      this.warn("could not read the most searched collections", error);
    }
    for (const id of ids) await this.run(id);
    return { collections: ids.length, searches: this.stats.warmed - before };
  }

  /** Resolves when no pass is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Bun.sleep(5);
  }

  private async run(collectionId: string): Promise<void> {
    if (this.running.has(collectionId)) return;
    const pass = { dirty: true };
    this.running.set(collectionId, pass);
    try {
      while (pass.dirty) {
        pass.dirty = false;
        this.stats.passes++;
        const top = await this.options.popularity!.top(collectionId, this.options.top);
        // "gone" is said for one descriptor's user: the collection is forgotten only when every
        // descriptor tried says so, so a descriptor of someone who never owned the collection
        // (counted before ownership was checked, or by another writer) cannot erase its owner's.
        let gone = 0;
        for (const { descriptor } of top) {
          if (pass.dirty) break; // a newer write: start again from the most popular
          try {
            const outcome = await this.options.warm(collectionId, descriptor);
            if (outcome === "warmed") this.stats.warmed++;
            if (outcome === "gone") gone++;
          } catch (error) {
            this.stats.failed++;
            this.warn("a pre-warmed search failed", error);
          }
        }
        if (!pass.dirty && top.length > 0 && gone === top.length) {
          await this.options.popularity!.forget(collectionId);
          return;
        }
      }
    } catch (error) {
      this.warn("could not read the popular searches", error);
    } finally {
      this.running.delete(collectionId);
    }
  }

  private warn(message: string, error: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.options.log.warn(message, { error: String(error) });
  }
}
