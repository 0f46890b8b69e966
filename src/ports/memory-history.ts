import type { MemoryChange } from "../domain/memory-change.ts";
import type { Page } from "../domain/memory.ts";

/**
 * The change log of the memories, read: a memory's history, a collection's changes since a
 * position (for consumers that follow the log), and its pruning by age.
 */
export interface MemoryHistoryStore {
  /**
   * A memory's changes, oldest first, `limit` at a time; `cursor` comes from a previous page.
   * Entries outlive the memory (until pruned or the collection is deleted); a memory that never
   * existed has none.
   */
  history(collectionId: string, memoryId: string, opts: { limit: number; cursor?: string }): Promise<Page<MemoryChange>>;
  /** The collection's changes with `seq > afterSeq`, in order, at most `limit`. */
  changesSince(collectionId: string, afterSeq: number, limit: number): Promise<MemoryChange[]>;
  /** Deletes up to `limit` entries committed before `before`; returns how many it deleted. */
  pruneHistory(before: Date, limit: number): Promise<number>;
}
