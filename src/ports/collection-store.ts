import type { Collection, CollectionPatch } from "../domain/collection.ts";

export interface CollectionStore {
  /**
   * `embedding_model`: the key of the model its memories will be embedded with (default: the
   * legacy model); `dedupe_threshold`: absent or null, the default.
   */
  create(
    owner: string,
    input: { name: string; description: string | null; embedding_model?: string; dedupe_threshold?: number | null },
  ): Promise<Collection>;
  list(owner: string): Promise<Collection[]>;
  /** The collection if it exists AND belongs to `owner`, else null. */
  get(owner: string, id: string): Promise<Collection | null>;
  /**
   * Changes the fields given (a null description or dedupe_threshold clears it) and answers the collection as it is
   * now; null if it is not the owner's. A name the owner already uses for another collection is
   * a DuplicateNameError.
   */
  update(owner: string, id: string, patch: CollectionPatch): Promise<Collection | null>;
  /** Deletes the collection and all its memories; false if not the owner's. */
  delete(owner: string, id: string): Promise<boolean>;
}
