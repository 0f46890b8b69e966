import type { Memory } from "../domain/memory.ts";

/** A memory written since the vector index last confirmed it searchable: its current state. */
export interface PendingVector {
  memory: Pick<Memory, "id" | "metadata" | "created_at" | "updated_at">;
  embedding: Float32Array;
}

/**
 * What the vector index of one collection may not show yet: memories whose latest write it has
 * not confirmed searchable. `present` are their current states (scored in-process, they replace
 * whatever the index holds for those ids); `gone` were deleted (or expired): the index's hits
 * for them are dropped. `complete` is false when more were pending than one read takes.
 */
export interface PendingChanges {
  present: PendingVector[];
  gone: string[];
  complete: boolean;
}

/** The source of truth's view of the changes a derived vector index has not made searchable. */
export interface FreshTail {
  pending(collectionId: string): Promise<PendingChanges>;
}
