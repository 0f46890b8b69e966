import type { Database } from "bun:sqlite";
import type { Hit, SearchFilter } from "../../domain/search.ts";
import type { VectorIndex } from "../../ports/vector-index.ts";
import type { StatementCache } from "./database.ts";
import { assertEmbedding, clampCount } from "../shared/checks.ts";
import { compileFilter, isEmptyFilter } from "./filters.ts";

/** vec0's largest `k`. */
export const MAX_K = 4096;

/**
 * Cosine nearest neighbours over the memories of one collection; score = 1 - cosine distance.
 *
 * - No filter: the vec0 KNN over the collection's partition.
 * - A filter: an exact scan of the collection's rows that pass it, with
 *   `vec_distance_cosine` over `memory_embeddings` (a plain rowid table: ~5x faster to read
 *   row by row than vec0), ORDER BY distance LIMIT k. The filter is inside the query, so `k`
 *   rows come back whenever `k` rows match, however many closer rows it rejects.
 */
export class EmbeddedVectorIndex implements VectorIndex {
  private readonly knnStmt;

  constructor(
    db: Database,
    private readonly statements: StatementCache,
    readonly dimensions: number,
  ) {
    this.knnStmt = db.prepare<Hit, [Float32Array, number, string]>(
      `WITH knn AS MATERIALIZED (
         SELECT rowid, distance FROM memory_vectors
         WHERE embedding MATCH ? AND k = ? AND collection_id = ?
       )
       SELECT m.id AS id, 1.0 - knn.distance AS score
       FROM knn JOIN memories AS m ON m.seq = knn.rowid
       ORDER BY knn.distance, m.seq`,
    );
  }

  async search(collectionId: string, vector: Float32Array, k: number, filter: SearchFilter): Promise<Hit[]> {
    assertEmbedding(vector, this.dimensions, "query vector");
    const limit = clampCount(k, MAX_K);
    if (limit === 0) return [];
    if (isEmptyFilter(filter)) return this.knnStmt.all(vector, limit, collectionId);

    const where = compileFilter(filter, "m");
    const statement = this.statements.get<Hit>(
      `SELECT m.id AS id, 1.0 - vec_distance_cosine(e.embedding, ?) AS score
       FROM memories AS m JOIN memory_embeddings AS e ON e.seq = m.seq
       WHERE m.collection_id = ? AND ${where.sql}
       ORDER BY score DESC, m.seq
       LIMIT ?`,
    );
    return statement.all(vector, collectionId, ...where.params, limit);
  }
}
