import type { Memory, MemoryPatch, MemoryWrite, Page } from "../domain/memory.ts";
import type { ChangeContext } from "../domain/memory-change.ts";
import type { BulkDeleteOptions, BulkDeletion, MemorySelector } from "../domain/bulk-delete.ts";
import type { Hit, KeywordOptions, SearchFilter } from "../domain/search.ts";

/**
 * The source of truth for memories. A write resolves only once it is durable; the adapter
 * is responsible for getting it into its vector index (same transaction, or an outbox).
 */
export interface MemoryStore {
  /**
   * Inserts or replaces (by id, within the collection) all of `items` atomically; a collection
   * that does not exist is a CollectionNotFoundError. Every write (upsert, patch, delete) is
   * recorded in the collection's change log in its own transaction, with `ctx.by` as its author.
   *
   * A memory whose `expires_at` has passed is gone for every method here (get, list, hydrate,
   * keyword search, patch, delete), even before a sweeper purges it; an upsert of its id
   * creates a new memory.
   */
  upsert(collectionId: string, items: MemoryWrite[], ctx?: ChangeContext): Promise<void>;
  get(collectionId: string, id: string): Promise<Memory | null>;
  /**
   * Insertion order; `cursor` is opaque and comes from a previous page. With `filter`, only the
   * memories it matches (the cursor pages through those).
   */
  list(collectionId: string, opts: { limit: number; cursor?: string; filter?: SearchFilter }): Promise<Page<Memory>>;
  patch(collectionId: string, id: string, patch: MemoryPatch, ctx?: ChangeContext): Promise<Memory | null>;
  delete(collectionId: string, id: string, ctx?: ChangeContext): Promise<boolean>;
  /**
   * Deletes the collection's live memories that `selector` picks, oldest first, at most
   * `opts.limit` of them, in one transaction: each is recorded in the change log as a `delete`
   * by `ctx.by` and leaves the derived indexes exactly as `delete` makes it leave them. `more`
   * says whether further picked memories remain. With `opts.dryRun`, nothing changes and the
   * answer is what the same call would delete now. A collection that does not exist picks nothing.
   */
  deleteMany(collectionId: string, selector: MemorySelector, opts: BulkDeleteOptions, ctx?: ChangeContext): Promise<BulkDeletion>;
  /**
   * Full-text (BM25-like) search; `query` is raw user text, the adapter makes it safe and never
   * throws on it. English stopwords are ignored and words are stemmed. By default a memory
   * matching any query word is a hit; `minTermsMatched: 2` (used by hybrid search) requires
   * two distinct query words when the query has two or more, which keeps incidental one-word
   * matches out of the fusion.
   */
  keywordSearch(
    collectionId: string,
    query: string,
    k: number,
    filter: SearchFilter,
    opts?: KeywordOptions,
  ): Promise<Hit[]>;
  /** The memories with these ids, in the order given; missing ids are skipped. */
  hydrate(collectionId: string, ids: string[], opts?: HydrateOptions): Promise<Memory[]>;
  /**
   * Of `ids`, those of the collection's memories that pass `filter`, in the order given (missing
   * ids are skipped): the filter applied inside the store, so a caller holding candidates from
   * elsewhere (graph search) never loads memories only to drop them.
   */
  matchingIds(collectionId: string, ids: string[], filter: SearchFilter): Promise<string[]>;
}

export interface HydrateOptions {
  /**
   * The collection's change-log position (ChangeFeed.head), read by the caller after every write
   * this read must reflect: an adapter that reads from a replica once it has replayed that far
   * uses it instead of looking the position up again. Absent: the adapter looks it up if it needs it.
   */
  changeHead?: number;
}
