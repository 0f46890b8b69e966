/** Purging the memories whose `expires_at` has passed (they are already invisible to every read). */
export interface ExpiringMemoryStore {
  /**
   * Deletes up to `limit` expired memories through the store's delete path (derived indexes
   * follow, e.g. through the outbox), each recorded `expire` in the change log; returns how
   * many. Idempotent: several processes may run it at once, a memory is purged once.
   */
  purgeExpired(limit: number): Promise<number>;
}
