import type { ChangedMemories, ChangeFeed } from "../../ports/change-feed.ts";
import { decodeEmbedding } from "./embedding.ts";
import type { PgPool } from "./pool.ts";
import { isUuid, MEMORY_COLUMNS, type MemoryRow, toMemory } from "./rows.ts";

interface ChangedRow extends MemoryRow {
  head: string | null;
  logged: number;
  last: string | null;
  changed_id: string | null;
  changed_seq: string | null;
  present: boolean | null;
  embedding: Buffer | null;
  embedding_model: string | null;
}

/**
 * The change log read for the search cache's roll-forward. One statement, so the head, the log
 * entries and the memories' current states come from one snapshot: the states reflect at least
 * every entry read. The log is gap-free per collection (change-log.ts), so counting the entries
 * after a position against the head tells whether any were pruned.
 */
export class PostgresChangeFeed implements ChangeFeed {
  constructor(
    private readonly pool: PgPool,
    private readonly now: () => number,
  ) {}

  async head(collectionId: string): Promise<number> {
    if (!isUuid(collectionId)) return 0;
    const { rows } = await this.pool.query<{ seq: string }>(
      { name: "change-feed.head", text: "SELECT seq::text AS seq FROM memory_change_heads WHERE collection_id = $1" },
      [collectionId],
    );
    return rows[0] === undefined ? 0 : Number(rows[0].seq);
  }

  async changedSince(collectionId: string, afterSeq: number, maxChanges: number): Promise<ChangedMemories | null> {
    if (!isUuid(collectionId)) return { seq: afterSeq, present: [], gone: [] };
    const { rows } = await this.pool.query<ChangedRow & Record<string, unknown>>(
      {
        name: "change-feed.since",
        text: `WITH log AS (
                 SELECT seq, memory_id FROM memory_changes
                 WHERE collection_id = $1 AND seq > $2::bigint ORDER BY seq LIMIT $3
               ),
               changed AS (SELECT memory_id, max(seq) AS seq FROM log GROUP BY memory_id)
               SELECT (SELECT seq::text FROM memory_change_heads WHERE collection_id = $1) AS head,
                      (SELECT count(*)::int FROM log) AS logged,
                      (SELECT max(seq)::text FROM log) AS last,
                      c.memory_id AS changed_id, c.seq::text AS changed_seq,
                      (m.id IS NOT NULL AND (m.expires_at IS NULL OR m.expires_at > $4::timestamptz)) AS present,
                      ${MEMORY_COLUMNS}, m.embedding, m.embedding_model
               FROM (SELECT 1) AS one
               LEFT JOIN changed AS c ON true
               LEFT JOIN memories AS m ON m.collection_id = $1 AND m.id = c.memory_id`,
      },
      [collectionId, afterSeq, maxChanges + 1, new Date(this.now()).toISOString()],
    );
    const first = rows[0]!;
    const head = first.head === null ? 0 : Number(first.head);
    if (head === afterSeq) return { seq: afterSeq, present: [], gone: [] };
    // fewer entries than the head says: pruned (or a head behind the position: never written by us)
    if (head < afterSeq || head - afterSeq > maxChanges || first.logged !== head - afterSeq) return null;
    const changes: ChangedMemories = { seq: Number(first.last), present: [], gone: [] };
    for (const row of rows) {
      if (row.changed_id === null) continue;
      if (row.present && row.embedding !== null) {
        changes.present.push({ seq: Number(row.changed_seq), memory: toMemory(row), embedding: decodeEmbedding(row.embedding), model: row.embedding_model });
      } else {
        changes.gone.push({ id: row.changed_id, seq: Number(row.changed_seq) });
      }
    }
    return changes;
  }
}
