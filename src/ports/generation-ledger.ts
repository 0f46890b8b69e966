/**
 * Where each collection's search-cache generation is kept durably. The cache's own copy (Redis)
 * is fast but can lose its data (a restart without a snapshot, FLUSHALL, eviction) or go back (a
 * restore from an older snapshot, a failover to a lagging replica); a generation that goes back
 * makes the keys of answers cached under the old numbers match again, and workers' first-level
 * caches would serve them. Checked against this ledger, the cache's copy only ever grows.
 */
export interface GenerationLedger {
  /**
   * Records a change that answers must see: returns a generation above every generation any
   * collection has had (never reused, whatever the cache forgot).
   */
  advance(collectionId: string): Promise<number>;
  /** The collection's last generation (0: never advanced); null when there is no such collection. */
  current(collectionId: string): Promise<number | null>;
}
