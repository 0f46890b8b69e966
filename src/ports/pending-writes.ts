/**
 * The writes of a collection a derived index has not received yet, seen from a reader of that
 * index that must not miss any acknowledged write.
 */
export interface PendingWrites {
  /**
   * Resolves once the collection's writes acknowledged so far have reached the index, or after
   * a bound (the index is slow or down: its own reads then answer, or fail, as they would).
   * Never throws.
   */
  deliver(collectionId: string): Promise<void>;
}
