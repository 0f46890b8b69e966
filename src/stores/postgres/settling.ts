import type pg from "pg";
import type { PgPool } from "./pool.ts";

/**
 * Memories a replicated index may still miss although their delivery was confirmed.
 *
 * An index with several replicas (Milvus with `MILVUS_REPLICAS` > 1) confirms a write on the
 * replica that answered the writer's check; another replica may serve a search before it has
 * consumed that write. Milvus bounds the lag for a Bounded search: it waits until the replica has
 * everything older than its start minus `common.gracefulTime`. So a delivered memory stays in
 * the fresh tail (fresh-tail.ts) for that long after its writer returned, plus a margin for the
 * clocks of workers and Milvus, and only then is it left to the index alone (migration 12).
 */
export const SETTLING_MIGRATION = `
  CREATE TABLE IF NOT EXISTS index_settling (
    target text NOT NULL,
    collection_id uuid NOT NULL,
    memory_id text NOT NULL,
    settles_at timestamptz NOT NULL,
    PRIMARY KEY (target, collection_id, memory_id)
  );
  CREATE INDEX IF NOT EXISTS index_settling_due ON index_settling (settles_at);
`;

/** The memories of `target`/`collection_id` (SQL parameters) still settling, for a fresh tail's UNION. */
export function settlingMemoriesSql(targetParam: string, collectionParam: string): string {
  return `SELECT memory_id FROM index_settling
          WHERE target = ${targetParam} AND collection_id = ${collectionParam} AND settles_at > clock_timestamp()`;
}

/**
 * Deletes the delivered outbox rows and, for the targets that settle, keeps their memories in the
 * fresh tail for `settleMs` from now (the writer has returned: clock_timestamp, not the
 * transaction's start). One statement, in the delivery's transaction.
 */
export async function deleteDelivered(
  client: pg.PoolClient,
  ids: readonly string[],
  settling: ReadonlyMap<string, number>,
): Promise<void> {
  if (settling.size === 0) {
    await client.query("DELETE FROM outbox WHERE id = ANY ($1::bigint[])", [ids]);
    return;
  }
  await client.query(
    `WITH delivered AS (DELETE FROM outbox WHERE id = ANY ($1::bigint[]) RETURNING target, collection_id, memory_id),
          settle AS (SELECT * FROM unnest($2::text[], $3::float8[]) AS s(target, ms))
     INSERT INTO index_settling (target, collection_id, memory_id, settles_at)
     SELECT d.target, d.collection_id, d.memory_id, clock_timestamp() + max(s.ms) * interval '1 millisecond'
     FROM delivered AS d JOIN settle AS s ON s.target = d.target
     WHERE d.memory_id IS NOT NULL
     GROUP BY d.target, d.collection_id, d.memory_id
     ON CONFLICT (target, collection_id, memory_id) DO UPDATE SET settles_at = greatest(index_settling.settles_at, EXCLUDED.settles_at)`,
    [ids, [...settling.keys()], [...settling.values()]],
  );
}

/** Forgets memories that have settled; returns how many. */
export async function purgeSettled(db: { query(sql: string): Promise<{ rowCount: number | null }> }): Promise<number> {
  const { rowCount } = await db.query("DELETE FROM index_settling WHERE settles_at <= clock_timestamp()");
  return rowCount ?? 0;
}
