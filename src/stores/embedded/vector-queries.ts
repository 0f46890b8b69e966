import type { SearchFilter } from "../../domain/search.ts";
import { compileFilter, isEmptyFilter } from "./filters.ts";
import type { ReadQuery } from "./search-threads.ts";

const KNN_SQL = `WITH knn AS MATERIALIZED (
   SELECT rowid, distance FROM memory_vectors
   WHERE embedding MATCH ? AND k = ? AND collection_id = ?
 )
 SELECT m.id AS id, 1.0 - knn.distance AS score
 FROM knn JOIN memories AS m ON m.seq = knn.rowid
 ORDER BY knn.distance, m.seq`;

/**
 * Cosine nearest neighbours in one collection; score = 1 - cosine distance.
 *
 * - No filter: the vec0 KNN over the collection's partition.
 * - A filter: an exact scan of the collection's rows that pass it, with
 *   `vec_distance_cosine` over `memory_embeddings` (a plain rowid table: ~5x faster to read
 *   row by row than vec0), ORDER BY distance LIMIT k. The filter is inside the query, so `k`
 *   rows come back whenever `k` rows match, however many closer rows it rejects.
 */
export function vectorQuery(collectionId: string, vector: Float32Array, limit: number, filter: SearchFilter): ReadQuery {
  if (isEmptyFilter(filter)) return { sql: KNN_SQL, params: [vector, limit, collectionId] };
  const where = compileFilter(filter, "m");
  return {
    sql: `SELECT m.id AS id, 1.0 - vec_distance_cosine(e.embedding, ?) AS score
       FROM memories AS m JOIN memory_embeddings AS e ON e.seq = m.seq
       WHERE m.collection_id = ? AND ${where.sql}
       ORDER BY score DESC, m.seq
       LIMIT ?`,
    params: [vector, collectionId, ...where.params, limit],
  };
}
