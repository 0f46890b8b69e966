import { LRUCache } from "lru-cache";
import type { SearchCache } from "../../ports/search-cache.ts";

export interface MemorySearchCacheOptions {
  /** Most entries kept; the least recently used one goes first. Default 10,000. */
  maxEntries?: number;
  /** Milliseconds clock; injectable for tests. Default: lru-cache's own (performance.now). */
  now?: () => number;
}

/**
 * In-process `SearchCache`: an LRU (lru-cache) with per-entry TTL and a bound on entries, plus
 * collection generation counters. Independent of any store, so production mode can put it in
 * front of Redis as the first level. The `*Sync` methods are the hot path for such a first
 * level; the async methods implement the port.
 */
export class MemorySearchCache implements SearchCache {
  readonly maxEntries: number;
  private readonly entries: LRUCache<string, string>;
  private readonly generations = new Map<string, number>();

  constructor(options: MemorySearchCacheOptions = {}) {
    const max = options.maxEntries ?? 10_000;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${max}`);
    }
    this.maxEntries = max;
    const now = options.now;
    this.entries = new LRUCache<string, string>({
      max,
      // An injected clock is read on every check (the default caches it for a millisecond).
      ...(now ? { perf: { now }, ttlResolution: 0 } : {}),
    });
  }

  /** Entries held, expired ones not yet evicted included. */
  get size(): number {
    return this.entries.size;
  }

  getSync(key: string): string | null {
    return this.entries.get(key) ?? null;
  }

  setSync(key: string, value: string, ttlSeconds: number): void {
    if (!(ttlSeconds > 0)) {
      this.entries.delete(key); // zero, negative or NaN: nothing to keep
      return;
    }
    this.entries.set(key, value, { ttl: ttlSeconds * 1000 });
  }

  deleteSync(key: string): boolean {
    return this.entries.delete(key);
  }

  generationSync(collectionId: string): number {
    return this.generations.get(collectionId) ?? 0;
  }

  bumpGenerationSync(collectionId: string): number {
    const next = (this.generations.get(collectionId) ?? 0) + 1;
    this.generations.set(collectionId, next);
    return next;
  }

  /** Drops every entry (generations are kept: they must only ever grow). */
  clear(): void {
    this.entries.clear();
  }

  async get(key: string): Promise<string | null> {
    return this.getSync(key);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.setSync(key, value, ttlSeconds);
  }

  async generation(collectionId: string): Promise<number> {
    return this.generationSync(collectionId);
  }

  async bumpGeneration(collectionId: string): Promise<number> {
    return this.bumpGenerationSync(collectionId);
  }
}
