import type { SearchCache } from "../../ports/search-cache.ts";

export interface MemorySearchCacheOptions {
  /** Most entries kept; the least recently used one goes first. Default 10,000. */
  maxEntries?: number;
  /** Milliseconds clock; injectable for tests. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * In-process `SearchCache`: an LRU with per-entry TTL and a bound on entries, plus collection
 * generation counters. Independent of any store, so production mode can put it in front of
 * Redis as the first level. The `*Sync` methods are the hot path for such a first level;
 * the async methods implement the port.
 */
export class MemorySearchCache implements SearchCache {
  readonly maxEntries: number;
  private readonly now: () => number;
  // A Map iterates in insertion order: re-inserting on access keeps the LRU entry first.
  private readonly entries = new Map<string, Entry>();
  private readonly generations = new Map<string, number>();

  constructor(options: MemorySearchCacheOptions = {}) {
    const max = options.maxEntries ?? 10_000;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${max}`);
    }
    this.maxEntries = max;
    this.now = options.now ?? Date.now;
  }

  /** Entries held, expired ones not yet evicted included. */
  get size(): number {
    return this.entries.size;
  }

  getSync(key: string): string | null {
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    // Mark as most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  setSync(key: string, value: string, ttlSeconds: number): void {
    this.entries.delete(key);
    if (!(ttlSeconds > 0)) return; // zero, negative or NaN: nothing to keep
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
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
