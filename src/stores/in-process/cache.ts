import { LRUCache } from "lru-cache";
import type { SearchCache } from "../../ports/search-cache.ts";

export interface MemorySearchCacheOptions {
  /** Most entries kept; the least recently used one goes first. Default 10,000. */
  maxEntries?: number;
  /** Most bytes kept (keys and answers, see `entryBytes`); the least recently used go first. Default 64 MiB. */
  maxBytes?: number;
  /** An answer that would take more is not kept (it is computed again when asked again). Default 1 MiB. */
  maxEntryBytes?: number;
  /** Expired entries are swept this often (one unref'd timer); 0 = only when they are read or evicted. Default 60 s. */
  sweepIntervalMs?: number;
  /** Milliseconds clock; injectable for tests. Default: lru-cache's own (performance.now). */
  now?: () => number;
}

export const CACHE_DEFAULTS = {
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxEntryBytes: 1024 * 1024,
  sweepIntervalMs: 60_000,
} as const;

/** Per-entry bookkeeping of the LRU (its slots, the Map entry, the TTL arrays), roughly. */
const ENTRY_OVERHEAD_BYTES = 64;

/**
 * What an entry holds in memory, as an upper bound: two bytes a UTF-16 code unit (an engine may
 * store Latin-1 strings in one) for the key and the answer, plus the LRU's bookkeeping.
 */
export function entryBytes(key: string, value: string): number {
  return 2 * (key.length + value.length) + ENTRY_OVERHEAD_BYTES;
}

/**
 * In-process `SearchCache`: an LRU (lru-cache) with per-entry TTL, bounded by entries and by
 * bytes, plus collection generation counters. Independent of any store, so production mode can
 * put it in front of Redis as the first level. The `*Sync` methods are the hot path for such a
 * first level; the async methods implement the port.
 *
 * Expired entries are dropped by a sweep on a timer rather than by lru-cache's `ttlAutopurge`:
 * both leave the hit path alone, but autopurge arms a timer on every set, which made a set with
 * eviction about three times slower (bench/experiments/cache-sweep.ts), while a sweep of 10,000
 * entries takes about a millisecond once a minute.
 */
export class MemorySearchCache implements SearchCache {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  private readonly entries: LRUCache<string, string>;
  private readonly generations = new Map<string, number>();
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(options: MemorySearchCacheOptions = {}) {
    const max = options.maxEntries ?? CACHE_DEFAULTS.maxEntries;
    const maxBytes = options.maxBytes ?? CACHE_DEFAULTS.maxBytes;
    const maxEntryBytes = Math.min(options.maxEntryBytes ?? CACHE_DEFAULTS.maxEntryBytes, maxBytes);
    for (const [name, value] of Object.entries({ maxEntries: max, maxBytes, maxEntryBytes })) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
    this.maxEntries = max;
    this.maxBytes = maxBytes;
    this.maxEntryBytes = maxEntryBytes;
    const now = options.now;
    this.entries = new LRUCache<string, string>({
      max,
      maxSize: maxBytes,
      maxEntrySize: maxEntryBytes,
      sizeCalculation: (value, key) => entryBytes(key, value),
      // An injected clock is read on every check (the default caches it for a millisecond).
      ...(now ? { perf: { now }, ttlResolution: 0 } : {}),
    });
    const interval = options.sweepIntervalMs ?? CACHE_DEFAULTS.sweepIntervalMs;
    if (interval > 0) {
      // The timer holds the cache weakly: a cache nobody uses any more is collected, and its timer stops.
      const self = new WeakRef(this);
      const timer = setInterval(() => {
        const cache = self.deref();
        if (cache === undefined) clearInterval(timer);
        else cache.sweep();
      }, interval);
      timer.unref();
      this.sweeper = timer;
    }
  }

  /** Entries held, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes held (`entryBytes` of each entry), expired ones not yet swept included. */
  get bytes(): number {
    return this.entries.calculatedSize;
  }

  /** Whether an answer is small enough to be kept at all. */
  fits(key: string, value: string): boolean {
    return entryBytes(key, value) <= this.maxEntryBytes;
  }

  /** Drops every expired entry now (the timer calls it every `sweepIntervalMs`). */
  sweep(): void {
    this.entries.purgeStale();
  }

  /** Stops the sweeping timer (it is unref'd: it never keeps a process alive anyway). */
  close(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  getSync(key: string): string | null {
    return this.entries.get(key) ?? null;
  }

  setSync(key: string, value: string, ttlSeconds: number): void {
    if (!(ttlSeconds > 0)) {
      this.entries.delete(key); // zero, negative or NaN: nothing to keep
      return;
    }
    // larger than maxEntryBytes: lru-cache keeps nothing (and drops an older value of the key)
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
