import type { PgPool } from "./pool.ts";

export interface ReindexOptions {
  /** Only this collection's memories (default: every collection). */
  collectionId?: string;
  /** Memories queued per statement (default 5,000). */
  batchSize?: number;
  /** Called after each batch with the number queued so far. */
  onProgress?: (queued: number) => void;
}

/** Below every real key: where the walk over (collection_id, id) starts. */
const START = { collection: "00000000-0000-0000-0000-000000000000", id: "" };

/**
 * Queues an upsert of every memory for the derived index `target`, so its dispatcher sends each
 * one's current state again: how an index that lost its data (a Milvus or Neo4j restored empty,
 * or moved to another queue) is rebuilt from PostgreSQL, the source of truth, while the service
 * keeps serving. Walks the primary key in batches, one short statement each (no long lock, and
 * the rows of a batch are deliverable at once); writes made meanwhile queue their own rows.
 * Returns how many memories were queued.
 */
export async function queueReindex(pool: Pick<PgPool, "query">, target: string, options: ReindexOptions = {}): Promise<number> {
  const batchSize = options.batchSize ?? 5000;
  let after = START;
  let queued = 0;
  for (;;) {
    const { rows } = await pool.query<{ n: number; last_collection: string | null; last_id: string | null }>(
      `WITH page AS (
         SELECT collection_id, id FROM memories
         WHERE ($2::uuid IS NULL OR collection_id = $2::uuid) AND (collection_id, id) > ($3::uuid, $4::text)
         ORDER BY collection_id, id LIMIT $5),
       queued AS (INSERT INTO outbox (target, op, collection_id, memory_id) SELECT $1, 'upsert', collection_id, id FROM page RETURNING 1),
       last AS (SELECT collection_id, id FROM page ORDER BY collection_id DESC, id DESC LIMIT 1)
       SELECT (SELECT count(*)::int FROM queued) AS n,
              (SELECT collection_id::text FROM last) AS last_collection, (SELECT id FROM last) AS last_id`,
      [target, options.collectionId ?? null, after.collection, after.id, batchSize],
    );
    const row = rows[0]!;
    queued += row.n;
    if (row.n > 0) options.onProgress?.(queued);
    if (row.n < batchSize || row.last_collection === null || row.last_id === null) return queued;
    after = { collection: row.last_collection, id: row.last_id };
  }
}
