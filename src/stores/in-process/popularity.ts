import type { PopularSearch, SearchPopularity } from "../../ports/search-popularity";

export interface PopularityOptions {
  /** A count loses half its weight every `halfLifeMs`. */
  halfLifeMs: number;
  /** Searches remembered per collection; the least popular go first. */
  maxPerCollection?: number;
  /** Collections remembered. */
  maxCollections?: number;
  /** Milliseconds clock; injectable for tests. */
  now?: () => number;
}

interface Counter {
  score: number;
  at: number;
}

/**
 * In-process `SearchPopularity` (the embedded mode, and a worker's view while Redis is down):
 * each counter is decayed lazily, when it is read or added to.
 */
export class InProcessPopularity implements SearchPopularity {
  private readonly searches = new Map<string, Map<string, Counter>>();
  private readonly collections = new Map<string, Counter>();
  private readonly now: () => number;
  private readonly maxPerCollection: number;
  private readonly maxCollections: number;

  constructor(private readonly options: PopularityOptions) {
    if (!(options.halfLifeMs > 0)) throw new RangeError(`halfLifeMs must be positive, got ${options.halfLifeMs}`);
    this.now = options.now ?? Date.now;
    this.maxPerCollection = options.maxPerCollection ?? 1000;
    this.maxCollections = options.maxCollections ?? 10_000;
  }

  private decayed(counter: Counter, now: number): number {
    return counter.score * 2 ** (-(now - counter.at) / this.options.halfLifeMs);
  }

  private add(map: Map<string, Counter>, member: string, count: number, now: number, bound: number): number {
    const counter = map.get(member);
    const score = (counter ? this.decayed(counter, now) : 0) + count;
    map.set(member, { score, at: now });
    if (map.size > bound) this.evictLeast(map, now, member);
    return score;
  }

  private evictLeast(map: Map<string, Counter>, now: number, keep: string): void {
    let least: string | undefined;
    let leastScore = Infinity;
    for (const [member, counter] of map) {
      if (member === keep) continue;
      const score = this.decayed(counter, now);
      if (score < leastScore) {
        leastScore = score;
        least = member;
      }
    }
    if (least !== undefined) map.delete(least);
  }

  async record(collectionId: string, counts: Map<string, number>): Promise<Map<string, number>> {
    const now = this.now();
    let searches = this.searches.get(collectionId);
    if (!searches) {
      searches = new Map();
      this.searches.set(collectionId, searches);
    }
    const scores = new Map<string, number>();
    let total = 0;
    for (const [descriptor, count] of counts) {
      scores.set(descriptor, this.add(searches, descriptor, count, now, this.maxPerCollection));
      total += count;
    }
    this.add(this.collections, collectionId, total, now, this.maxCollections);
    return scores;
  }

  async top(collectionId: string, n: number): Promise<PopularSearch[]> {
    const searches = this.searches.get(collectionId);
    if (!searches || n <= 0) return [];
    const now = this.now();
    return [...searches]
      .map(([descriptor, counter]) => ({ descriptor, score: this.decayed(counter, now) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, n);
  }

  async topCollections(n: number): Promise<string[]> {
    const now = this.now();
    return [...this.collections]
      .map(([id, counter]) => ({ id, score: this.decayed(counter, now) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, Math.max(0, n))
      .map((c) => c.id);
  }

  async forget(collectionId: string): Promise<void> {
    this.searches.delete(collectionId);
    this.collections.delete(collectionId);
  }
}
