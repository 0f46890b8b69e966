import type { Logger } from "../log";
import type { SearchPopularity } from "../ports/search-popularity";

export interface CacheLifetimes {
  /** TTL of an answer to a rarely asked search. */
  coldTtlSeconds: number;
  /** TTL of an answer to a search asked at least `hotThreshold` times lately. */
  hotTtlSeconds: number;
  /** Decayed askings from which a search counts as popular. */
  hotThreshold: number;
}

export interface PopularityTrackerOptions extends CacheLifetimes {
  store: SearchPopularity;
  log: Logger;
  /** Askings are sent to the store at most this often (one call per collection). */
  flushIntervalMs?: number;
  /** Scores remembered per worker, for TTL decisions without a round trip. */
  maxKnown?: number;
  now?: () => number;
}

/**
 * Counts askings on the request path without a round trip: each worker adds them up locally and
 * sends them in one call per collection at most every `flushIntervalMs`; the store answers the
 * shared decayed scores, which this tracker keeps to choose each answer's TTL.
 */
export class PopularityTracker {
  private pending = new Map<string, Map<string, number>>();
  /** Counts on their way to the store: still counted locally until the store's scores arrive. */
  private sending = new Map<string, Map<string, number>>();
  private readonly known = new Map<string, number>();
  private lastFlush = 0;
  private flushing = false;
  private readonly flushIntervalMs: number;
  private readonly maxKnown: number;
  private readonly now: () => number;
  private lastWarning = 0;

  constructor(private readonly options: PopularityTrackerOptions) {
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.maxKnown = options.maxKnown ?? 50_000;
    this.now = options.now ?? Date.now;
  }

  get store(): SearchPopularity {
    return this.options.store;
  }

  /** One asking of `descriptor` in `collectionId`. */
  note(collectionId: string, descriptor: string): void {
    let counts = this.pending.get(collectionId);
    if (!counts) {
      counts = new Map();
      this.pending.set(collectionId, counts);
    }
    counts.set(descriptor, (counts.get(descriptor) ?? 0) + 1);
    if (!this.flushing && this.now() - this.lastFlush >= this.flushIntervalMs) void this.flush();
  }

  /** The TTL for an answer to `descriptor`: long for a popular search, short for a rare one. */
  ttlFor(collectionId: string, descriptor: string): number {
    const score =
      (this.known.get(descriptor) ?? 0) +
      (this.pending.get(collectionId)?.get(descriptor) ?? 0) +
      (this.sending.get(collectionId)?.get(descriptor) ?? 0);
    return score >= this.options.hotThreshold ? this.options.hotTtlSeconds : this.options.coldTtlSeconds;
  }

  /** Sends what was counted since the last flush. Never throws: popularity is an optimisation. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    this.lastFlush = this.now();
    this.sending = this.pending;
    this.pending = new Map();
    try {
      for (const [collectionId, counts] of this.sending) {
        const scores = await this.options.store.record(collectionId, counts);
        for (const [descriptor, score] of scores) {
          this.known.delete(descriptor); // re-inserted last: the oldest entries go first
          this.known.set(descriptor, score);
        }
        this.sending.delete(collectionId);
      }
      while (this.known.size > this.maxKnown) this.known.delete(this.known.keys().next().value!);
    } catch (error) {
      if (this.now() - this.lastWarning > 10_000) {
        this.lastWarning = this.now();
        this.options.log.warn("search popularity not recorded; cache TTLs use what is known", { error: String(error) });
      }
    } finally {
      this.sending = new Map();
      this.flushing = false;
    }
  }
}
