/**
 * The search cache. Values are serialised answers. Generations make read-your-writes cheap:
 * every write bumps its collection's generation and cache keys include it.
 */
export interface SearchCache {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  generation(collectionId: string): Promise<number>;
  bumpGeneration(collectionId: string): Promise<number>;
}
