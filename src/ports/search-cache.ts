/**
 * The search cache. Values are serialised answers. Generations make read-your-writes cheap:
 * every write bumps its collection's generation and cache keys include it.
 */
export interface SearchCache {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /**
   * The collection's current generation: 0 before its first change, and never lower than one
   * read before. Negative when answers of this collection must not be cached at all (it does
   * not exist).
   */
  generation(collectionId: string): Promise<number>;
  /** Records a change: returns a generation above every one the collection has had. */
  bumpGeneration(collectionId: string): Promise<number>;
}
