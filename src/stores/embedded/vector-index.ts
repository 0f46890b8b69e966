import type { Hit, SearchFilter } from "../../domain/search.ts";
import type { VectorIndex } from "../../ports/vector-index.ts";
import type { StatementCache } from "./database.ts";
import { assertEmbedding, clampCount } from "../shared/checks.ts";
import { vectorQuery } from "./vector-queries.ts";
import { runSearch, type SearchThreads } from "./search-threads.ts";

/** vec0's largest `k`. */
export const MAX_K = 4096;

/**
 * Cosine nearest neighbours over the memories of one collection (the queries: vector-queries.ts).
 * With search threads (a database file), the scan runs on one of them and the event loop stays
 * free; without (`:memory:`, or EMBEDDED_SEARCH_THREADS=0), or while no thread can answer, it
 * runs here on the main connection.
 */
export class EmbeddedVectorIndex implements VectorIndex {
  constructor(
    private readonly statements: StatementCache,
    readonly dimensions: number,
    private readonly threads?: SearchThreads,
  ) {}

  async search(collectionId: string, vector: Float32Array, k: number, filter: SearchFilter): Promise<Hit[]> {
    assertEmbedding(vector, this.dimensions, "query vector");
    const limit = clampCount(k, MAX_K);
    if (limit === 0) return [];
    return runSearch(this.threads, this.statements, vectorQuery(collectionId, vector, limit, filter));
  }
}
