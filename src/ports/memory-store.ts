import type { Memory, MemoryPatch, MemoryWrite, Page } from "../domain/memory.ts";
import type { Hit, KeywordOptions, SearchFilter } from "../domain/search.ts";

/**
 * The source of truth for memories. A write resolves only once it is durable; the adapter
 * is responsible for getting it into its vector index (same transaction, or an outbox).
 */
export interface MemoryStore {
  /**
   * Inserts or replaces (by id, within the collection) all of `items` atomically; a collection
   * that does not exist is a CollectionNotFoundError.
   */
  upsert(collectionId: string, items: MemoryWrite[]): Promise<void>;
  get(collectionId: string, id: string): Promise<Memory | null>;
  /**
   * Insertion order; `cursor` is opaque and comes from a previous page. With `filter`, only the
   * memories it matches (the cursor pages through those).
   */
  list(collectionId: string, opts: { limit: number; cursor?: string; filter?: SearchFilter }): Promise<Page<Memory>>;
  patch(collectionId: string, id: string, patch: MemoryPatch): Promise<Memory | null>;
  delete(collectionId: string, id: string): Promise<boolean>;
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
  hydrate(collectionId: string, ids: string[]): Promise<Memory[]>;
}
