import { MemorySearchCache, type MemorySearchCacheOptions } from "./cache";
import type { SearchCache } from "../../ports/search-cache";

/**
 * A worker-local first level in front of a shared cache (Redis). Answers are immutable per key
 * and keys carry the collection generation, so an entry can never be stale: a write changes the
 * generation (read from the shared level on every search) and with it every key. The first
 * level needs no invalidation, only a bound; a hit in it saves the value's round trip and
 * transfer. The generation still comes from the shared level, so an outage of that level
 * bypasses both. An answer too large for the first level (`maxEntryBytes`) is kept in neither.
 */
export class TieredSearchCache implements SearchCache {
  readonly stats = { l1Hits: 0, l2Hits: 0, misses: 0 };
  /** The first level (read by tests and metrics). */
  readonly l1: MemorySearchCache;
  /** How long a value fetched from the shared level stays in the first (its TTL there is unknown). */
  private readonly l1TtlSeconds: number;

  constructor(
    /** The shared level (Redis). */
    readonly shared: SearchCache,
    options: Omit<MemorySearchCacheOptions, "maxEntries"> & { maxEntries: number; maxTtlSeconds: number },
  ) {
    const { maxTtlSeconds: _, ...l1Options } = options;
    this.l1 = new MemorySearchCache(l1Options);
    this.l1TtlSeconds = options.maxTtlSeconds;
  }

  async get(key: string): Promise<string | null> {
    const local = this.l1.getSync(key);
    if (local !== null) {
      this.stats.l1Hits++;
      return local;
    }
    const remote = await this.shared.get(key);
    if (remote === null) {
      this.stats.misses++;
      return null;
    }
    this.stats.l2Hits++;
    this.l1.setSync(key, remote, this.l1TtlSeconds);
    return remote;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (!this.l1.fits(key, value)) return;
    this.l1.setSync(key, value, Math.min(ttlSeconds, this.l1TtlSeconds));
    await this.shared.set(key, value, ttlSeconds);
  }

  generation(collectionId: string): Promise<number> {
    return this.shared.generation(collectionId);
  }

  bumpGeneration(collectionId: string): Promise<number> {
    return this.shared.bumpGeneration(collectionId);
  }
}
