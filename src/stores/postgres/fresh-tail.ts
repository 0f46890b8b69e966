import type { Metadata } from "../../domain/memory.ts";
import type { FreshTail, PendingChanges } from "../../ports/fresh-tail.ts";
import { decodeEmbedding } from "./embedding.ts";
import type { PgPool } from "./pool.ts";
import { isoSql, isUuid } from "./rows.ts";
import { settlingMemoriesSql } from "./settling.ts";

/** Looks pending rows up by (target, collection): a search reads them on every call. */
export const FRESH_TAIL_MIGRATION = `CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (target, collection_id, memory_id);`;

interface PendingRow {
  id: string;
  present: boolean;
  metadata: Metadata | null;
  created_at: string | null;
  updated_at: string | null;
  embedding: Buffer | null;
}

/**
 * The fresh tail of one outbox target (the vector index): the memories with an outbox row for
 * it, which the dispatcher has not delivered and confirmed searchable yet (a row is deleted
 * only after the writer's call returned, and the Milvus writer returns once its write is
 * searchable), and those delivered but still settling on the index's other replicas
 * (settling.ts). Their current state comes from `memories`, as the dispatcher would send it.
 */
export class PostgresFreshTail implements FreshTail {
  constructor(
    private readonly pool: PgPool,
    private readonly target: string,
    private readonly maxRows: number,
    private readonly now: () => number,
  ) {}

  async pending(collectionId: string): Promise<PendingChanges> {
    if (!isUuid(collectionId)) return { present: [], gone: [], complete: true };
    const { rows } = await this.pool.query<PendingRow & Record<string, unknown>>(
      {
        name: "fresh-tail.pending",
        text: `SELECT p.memory_id AS id,
                      (m.id IS NOT NULL AND (m.expires_at IS NULL OR m.expires_at > $4::timestamptz)) AS present,
                      m.metadata, ${isoSql("m.created_at")} AS created_at, ${isoSql("m.updated_at")} AS updated_at, m.embedding
               FROM (SELECT memory_id FROM outbox WHERE target = $1 AND collection_id = $2 AND memory_id IS NOT NULL
                     UNION ${settlingMemoriesSql("$1", "$2")}
                     LIMIT $3) AS p
               LEFT JOIN memories AS m ON m.collection_id = $2 AND m.id = p.memory_id`,
      },
      [this.target, collectionId, this.maxRows + 1, new Date(this.now()).toISOString()],
    );
    const complete = rows.length <= this.maxRows;
    const changes: PendingChanges = { present: [], gone: [], complete };
    for (const row of complete ? rows : rows.slice(0, this.maxRows)) {
      if (row.present && row.embedding !== null) {
        changes.present.push({
          memory: { id: row.id, metadata: row.metadata ?? {}, created_at: row.created_at!, updated_at: row.updated_at! },
          embedding: decodeEmbedding(row.embedding),
        });
      } else {
        changes.gone.push(row.id);
      }
    }
    return changes;
  }
}
