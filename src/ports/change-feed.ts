import type { Memory } from "../domain/memory.ts";

/** A memory changed since a position of its collection's change log: its current state. */
export interface ChangedMemory {
  /** The position of its last change. */
  seq: number;
  memory: Memory;
  embedding: Float32Array;
  /** The model that embedded it (null: recorded before models were). */
  model: string | null;
}

/**
 * The memories a collection's change log names after a position, as they are now. `seq` is the
 * position these states cover (every change up to it is reflected); `present` are the memories
 * that exist and have not expired, `gone` the ids that were deleted or expired since.
 */
export interface ChangedMemories {
  seq: number;
  present: ChangedMemory[];
  /** Deleted or expired since, with the position of their last change. */
  gone: GoneMemory[];
}

export interface GoneMemory {
  id: string;
  seq: number;
}

/**
 * The change log read for derived answers (the search cache's roll-forward): where a collection's
 * log stands, and what changed after a position, with the vectors a search needs to rescore it.
 */
export interface ChangeFeed {
  /**
   * The collection's last change-log position (0 before its first write), read from the source
   * of truth at the call, never from a cache: a caller may hand it to MemoryStore.hydrate as
   * what that read must reflect.
   */
  head(collectionId: string): Promise<number>;
  /**
   * The memories changed after `afterSeq`, or null when that cannot be told exactly within
   * `maxChanges` log entries: more changes than that, or entries already pruned.
   */
  changedSince(collectionId: string, afterSeq: number, maxChanges: number): Promise<ChangedMemories | null>;
}
