import type { PendingMemory, ReembedState, ReembedStore, EmbeddedPending } from "../../ports/reembed-store.ts";
import { assertEmbedding } from "../shared/checks.ts";
import { encodeEmbeddings } from "./embedding.ts";
import { type Outbox, queueSql } from "./outbox.ts";
import type { PgPool } from "./pool.ts";
import { isUuid } from "./rows.ts";

const STATE_COLUMNS = "id::text AS id, owner, name, embedding_model, reembed_target, reembed_checkpoint::float8 AS reembed_checkpoint";

/**
 * Re-embedding in PostgreSQL. A batch is ONE statement: the new vectors, the memories' model,
 * the checkpoint and one outbox row per index writer commit together, so a killed run loses at
 * most the batch it was embedding, and the vector index (Milvus) receives every new vector
 * through the outbox like any other write. Give the stores only the writers that hold vectors
 * (the reembed runtime opens them with Milvus alone): a graph writer has nothing to redo.
 */
export class PostgresReembedStore implements ReembedStore {
  constructor(
    private readonly pool: PgPool,
    private readonly outbox: Outbox,
    private readonly dimensions?: number,
  ) {}

  async collections(): Promise<ReembedState[]> {
    const { rows } = await this.pool.query<ReembedState & Record<string, unknown>>(
      `SELECT ${STATE_COLUMNS} FROM collections ORDER BY seq`,
    );
    return rows;
  }

  async collection(id: string): Promise<ReembedState | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.pool.query<ReembedState & Record<string, unknown>>(
      `SELECT ${STATE_COLUMNS} FROM collections WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  async begin(id: string, target: string): Promise<ReembedState | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.pool.query<ReembedState & Record<string, unknown>>(
      `UPDATE collections
       SET reembed_checkpoint = CASE WHEN reembed_target IS NOT DISTINCT FROM $2 THEN reembed_checkpoint ELSE 0 END,
           reembed_target = $2
       WHERE id = $1 RETURNING ${STATE_COLUMNS}`,
      [id, target],
    );
    return rows[0] ?? null;
  }

  async count(id: string, target: string): Promise<{ total: number; pending: number }> {
    if (!isUuid(id)) return { total: 0, pending: 0 };
    const { rows } = await this.pool.query<{ total: number; pending: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE embedding_model IS DISTINCT FROM $2)::int AS pending
       FROM memories WHERE collection_id = $1`,
      [id, target],
    );
    return rows[0]!;
  }

  async pending(id: string, target: string, afterSeq: number, limit: number): Promise<PendingMemory[]> {
    if (!isUuid(id)) return [];
    const { rows } = await this.pool.query<{ seq: string; id: string; content: string }>(
      {
        name: "reembed.pending",
        // ORDER BY the column, not the text alias (which would sort 10 before 2)
        text: `SELECT m.seq::text AS seq, m.id, m.content FROM memories AS m
               WHERE m.collection_id = $1 AND m.seq > $2::bigint AND m.embedding_model IS DISTINCT FROM $3
               ORDER BY m.seq LIMIT $4`,
      },
      [id, afterSeq, target, limit],
    );
    return rows.map((r) => ({ seq: Number(r.seq), id: r.id, content: r.content }));
  }

  async write(id: string, target: string, items: ReadonlyArray<EmbeddedPending>, checkpoint: number): Promise<number> {
    if (!isUuid(id)) return 0;
    const width = this.dimensions ?? items[0]?.embedding.length ?? 0;
    items.forEach((item, i) => assertEmbedding(item.embedding, width, `items[${i}].embedding`));
    // The checkpoint moves only while the run still owns the collection; the vectors only with it.
    const statement = `WITH progress AS (
        UPDATE collections SET reembed_checkpoint = greatest(reembed_checkpoint, $6::bigint)
        WHERE id = $1 AND reembed_target = $2 RETURNING id
      ), batch AS (
        SELECT u.seq, u.content, u.ord FROM unnest($3::bigint[], $4::text[]) WITH ORDINALITY AS u(seq, content, ord)
      ), written AS (
        UPDATE memories AS m
        SET embedding = substring($5::bytea FROM ((b.ord - 1) * $7::int + 1)::int FOR $7::int), embedding_model = $2
        FROM batch AS b
        WHERE m.collection_id = $1 AND m.seq = b.seq AND m.content = b.content
          AND m.embedding_model IS DISTINCT FROM $2 AND EXISTS (SELECT 1 FROM progress)
        RETURNING m.collection_id, m.id
      )`;
    const values: unknown[] = [
      id,
      target,
      items.map((item) => item.seq),
      items.map((item) => item.content),
      encodeEmbeddings(items.map((item) => item.embedding)),
      checkpoint,
      width * 4,
    ];
    const targets = this.outbox.targets;
    const { rows } = await this.pool.query<{ written: number; queued: string[] | null }>(
      targets.length === 0
        ? { name: "reembed.write", text: `${statement} SELECT count(*)::int AS written, NULL::text[] AS queued FROM written` }
        : {
            name: "reembed.write+outbox",
            text: `${statement}, queued AS (${queueSql("upsert", "written", "$8")})
                   SELECT (SELECT count(*)::int FROM written) AS written, (SELECT array_agg(id::text) FROM queued) AS queued`,
          },
      targets.length === 0 ? values : [...values, targets],
    );
    const { written, queued } = rows[0]!;
    if (queued !== null) await this.outbox.deliverNow(queued);
    return written;
  }

  async settle(id: string, timeoutMs: number): Promise<boolean> {
    if (!isUuid(id) || this.outbox.targets.length === 0) return true;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM outbox WHERE collection_id = $1 AND target = ANY ($2::text[])",
        [id, this.outbox.targets],
      );
      if (rows[0]!.n === 0) return true;
      if (Date.now() >= deadline) return false;
      this.outbox.kick();
      await Bun.sleep(50);
    }
  }

  async finish(id: string, target: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { rowCount } = await this.pool.query(
      `UPDATE collections SET embedding_model = $2, reembed_target = NULL, reembed_checkpoint = 0
       WHERE id = $1 AND reembed_target = $2
         AND NOT EXISTS (SELECT 1 FROM memories WHERE collection_id = $1 AND embedding_model IS DISTINCT FROM $2)`,
      [id, target],
    );
    return rowCount === 1;
  }
}
