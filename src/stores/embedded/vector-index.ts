import type { Hit, SearchFilter } from "../../domain/search.ts";
import type { VectorIndex } from "../../ports/vector-index.ts";
import type { StatementCache } from "./database.ts";
import { assertEmbedding, clampCount } from "../shared/checks.ts";
import { vectorQuery } from "./vector-queries.ts";
import { runSearch, SearchThreadsUnavailable, type SearchThreads } from "./search-threads.ts";
import type { AnnSearcher } from "./ann/searcher.ts";

/** vec0's largest `k`. */
export const MAX_K = 4096;

/**
 * Cosine nearest neighbours over the memories of one collection: through an ANN index where the
 * collection is big enough (ann/searcher.ts), else an exact scan (vector-queries.ts). With search
 * threads (a database file), the search runs on one of them and the event loop stays free;
 * without (`:memory:`, or EMBEDDED_SEARCH_THREADS=0) it runs here, through `searcher` when there
 * is one; while no thread can answer, it scans exactly here.
 */
export class EmbeddedVectorIndex implements VectorIndex {
  constructor(
    private readonly statements: StatementCache,
    readonly dimensions: number,
    private readonly threads?: SearchThreads,
    private readonly searcher?: AnnSearcher,
  ) {}

  async search(collectionId: string, vector: Float32Array, k: number, filter: SearchFilter): Promise<Hit[]> {
    assertEmbedding(vector, this.dimensions, "query vector");
    const limit = clampCount(k, MAX_K);
    if (limit === 0) return [];
    if (this.threads?.ann === true) {
      try {
        return await this.threads.searchVectors({ collectionId, vector, k: limit, filter });
      } catch (error) {
        if (!(error instanceof SearchThreadsUnavailable)) throw error;
      }
    } else if (this.searcher !== undefined && this.threads === undefined) {
      return this.searcher.search(collectionId, vector, limit, filter);
    }
    return runSearch(this.threads, this.statements, vectorQuery(collectionId, vector, limit, filter));
  }
}
