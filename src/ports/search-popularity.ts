/** A search as the popularity counter knows it, and how often it was asked lately. */
export interface PopularSearch {
  /** The canonical JSON of what determines the answer (see search/cache-key.ts). */
  descriptor: string;
  /** Askings, exponentially decayed (a half-life ago counts half). */
  score: number;
}

/**
 * How often each search of a collection is asked: an exponentially decaying counter per search,
 * shared by every worker in production. It decides cache lifetimes (popular answers live longer)
 * and which searches are recomputed in the background after a write.
 */
export interface SearchPopularity {
  /** Adds `counts` askings per descriptor; answers each one's decayed score after the addition. */
  record(collectionId: string, counts: Map<string, number>): Promise<Map<string, number>>;
  /** The `n` most asked searches of a collection, most popular first. */
  top(collectionId: string, n: number): Promise<PopularSearch[]>;
  /** The `n` collections searched most lately, most first. */
  topCollections(n: number): Promise<string[]>;
  /** Forgets a collection (it was deleted). */
  forget(collectionId: string): Promise<void>;
}
