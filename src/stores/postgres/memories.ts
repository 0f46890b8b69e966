import type { Memory, MemoryPatch, MemoryWrite, Page } from "../../domain/memory.ts";
import type { Hit, KeywordOptions, SearchFilter } from "../../domain/search.ts";
import type { MemoryStore } from "../../ports/memory-store.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { assertEmbedding, clampCount } from "../shared/checks.ts";
import { encodeEmbedding, encodeEmbeddings } from "./embedding.ts";
import { compileFilter, SqlParams } from "./filters.ts";
import { keywordText, tsquerySql } from "./keyword.ts";
import { type Outbox, queueSql } from "./outbox.ts";
import type { PgPool } from "./pool.ts";
import { assertNoNul, isUuid, MEMORY_COLUMNS, type MemoryRow, NOW_MS, toMemory } from "./rows.ts";
import { CollectionNotFoundError } from "../../domain/errors.ts";
import { isForeignKeyViolation } from "./errors.ts";

export const MAX_PAGE_SIZE = 1000;
export const MAX_KEYWORD_HITS = 10_000;

/** JSON text that `jsonb` accepts: an object, and no escaped U+0000 (jsonb refuses it). */
function metadataJson(metadata: unknown, what: string): string {
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new TypeError(`${what} must be an object`);
  }
  const json = JSON.stringify(metadata);
  if (/(^|[^\\])(\\\\)*\\u0000/.test(json)) {
    throw new RangeError(`${what} contains a NUL character (U+0000), which cannot be stored`);
  }
  return json;
}

type Returned = MemoryRow & { queued: string[] | null };

/**
 * Memories in PostgreSQL, the source of truth. Each write is ONE statement: the rows and their
 * outbox rows (one per index writer) commit together; the write then waits, bounded, for the
 * outbox to deliver them (read-your-writes in Milvus / Neo4j when they are up).
 */
export class PostgresMemoryStore implements MemoryStore {
  constructor(
    private readonly pool: PgPool,
    private readonly outbox: Outbox,
    /** When set, every embedding must have this length; otherwise a batch must agree on one. */
    readonly dimensions?: number,
  ) {}

  async upsert(collectionId: string, items: MemoryWrite[]): Promise<void> {
    if (items.length === 0) return;
    // Validate everything before writing anything; the single statement covers the rest.
    const width = this.dimensions ?? (items[0]?.embedding as Float32Array | undefined)?.length;
    const ids: string[] = [];
    const contents: string[] = [];
    const metadata: string[] = [];
    const graphs: (string | null)[] = [];
    const models: (string | null)[] = [];
    const vectors: Float32Array[] = [];
    // A repeated id keeps its first position (insertion order) and its last value, as
    // applying the items one by one would.
    const position = new Map<string, number>();
    items.forEach((item, i) => {
      if (typeof item.id !== "string" || item.id.length === 0) {
        throw new TypeError(`items[${i}].id must be a non-empty string`);
      }
      assertNoNul(item.id, `items[${i}].id`);
      if (typeof item.content !== "string") throw new TypeError(`items[${i}].content must be a string`);
      assertNoNul(item.content, `items[${i}].content`);
      assertEmbedding(item.embedding, width, `items[${i}].embedding`);
      const json = metadataJson(item.metadata, `items[${i}].metadata`);
      const graph = item.graph === undefined ? null : metadataJson(item.graph, `items[${i}].graph`);
      const at = position.get(item.id);
      if (at === undefined) {
        position.set(item.id, ids.length);
        ids.push(item.id);
        contents.push(item.content);
        metadata.push(json);
        graphs.push(graph);
        models.push(item.embeddingModel ?? null);
        vectors.push(item.embedding);
      } else {
        contents[at] = item.content;
        metadata[at] = json;
        graphs[at] = graph;
        models[at] = item.embeddingModel ?? null;
        vectors[at] = item.embedding;
      }
    });
    if (!isUuid(collectionId)) throw new RangeError(`collection ${collectionId} does not exist`);

    const insert = `INSERT INTO memories AS m (collection_id, id, content, metadata, embedding, created_at, updated_at, graph, embedding_model)
      SELECT $1::uuid, u.id, u.content, u.metadata::jsonb,
             substring($5::bytea FROM ((u.ord - 1) * $6::int + 1)::int FOR $6::int), t.now, t.now, u.graph::jsonb, u.model
      FROM unnest($2::text[], $3::text[], $4::text[], $7::text[], $8::text[]) WITH ORDINALITY AS u(id, content, metadata, graph, model, ord),
           (SELECT ${NOW_MS} AS now) AS t
      ORDER BY u.ord
      ON CONFLICT (collection_id, id) DO UPDATE
        SET content = EXCLUDED.content, metadata = EXCLUDED.metadata,
            embedding = EXCLUDED.embedding, updated_at = EXCLUDED.updated_at, graph = EXCLUDED.graph,
            embedding_model = EXCLUDED.embedding_model
      RETURNING m.collection_id, m.id`;
    const values: unknown[] = [collectionId, ids, contents, metadata, encodeEmbeddings(vectors), width! * 4, graphs, models];
    const targets = this.outbox.targets;
    try {
      if (targets.length === 0) {
        await this.pool.query({ name: "memories.upsert", text: insert }, values);
        return;
      }
      const { rows } = await this.pool.query<{ queued: string[] | null }>(
        {
          name: "memories.upsert+outbox",
          text: `WITH written AS (${insert}), queued AS (${queueSql("upsert", "written", "$9")})
                 SELECT array_agg(id::text) AS queued FROM queued`,
        },
        [...values, targets],
      );
      await this.outbox.deliverNow(rows[0]?.queued ?? []);
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new CollectionNotFoundError(collectionId);
      throw error;
    }
  }

  async get(collectionId: string, id: string): Promise<Memory | null> {
    if (!isUuid(collectionId) || id.includes("\u0000")) return null;
    const { rows } = await this.pool.query<MemoryRow & Record<string, unknown>>(
      {
        name: "memories.get",
        text: `SELECT ${MEMORY_COLUMNS} FROM memories AS m WHERE m.collection_id = $1 AND m.id = $2`,
      },
      [collectionId, id],
    );
    return rows[0] === undefined ? null : toMemory(rows[0]);
  }

  async list(collectionId: string, opts: { limit: number; cursor?: string }): Promise<Page<Memory>> {
    const after = opts.cursor === undefined ? "0" : decodeCursor(opts.cursor);
    const limit = Math.max(1, clampCount(opts.limit, MAX_PAGE_SIZE));
    if (!isUuid(collectionId)) return { items: [], next_cursor: null };
    const { rows } = await this.pool.query<MemoryRow & Record<string, unknown>>(
      {
        name: "memories.list",
        text: `SELECT ${MEMORY_COLUMNS} FROM memories AS m
               WHERE m.collection_id = $1 AND m.seq > $2::bigint ORDER BY m.seq LIMIT $3`,
      },
      [collectionId, after, limit + 1],
    );
    const more = rows.length > limit;
    if (more) rows.pop();
    const last = rows[rows.length - 1];
    return {
      items: rows.map(toMemory),
      next_cursor: more && last !== undefined ? encodeCursor(last.seq) : null,
    };
  }

  async patch(collectionId: string, id: string, patch: MemoryPatch): Promise<Memory | null> {
    if (patch.content !== undefined && patch.embedding === undefined) {
      throw new TypeError("a patch that changes content must carry the new embedding");
    }
    if (patch.content !== undefined) assertNoNul(patch.content, "content");
    if (patch.embedding !== undefined) assertEmbedding(patch.embedding, this.dimensions);
    if (patch.content === undefined && patch.metadata === undefined && patch.embedding === undefined && patch.graph === undefined) {
      return this.get(collectionId, id);
    }
    const metadata = patch.metadata !== undefined ? metadataJson(patch.metadata, "metadata") : null;
    const graph = patch.graph !== undefined ? metadataJson(patch.graph, "graph") : null;
    if (!isUuid(collectionId) || id.includes("\u0000")) return null;
    const update = `UPDATE memories AS m
      SET content = coalesce($3::text, m.content),
          metadata = coalesce($4::jsonb, m.metadata),
          embedding = coalesce($5::bytea, m.embedding),
          graph = coalesce($6::jsonb, m.graph),
          embedding_model = CASE WHEN $5::bytea IS NULL THEN m.embedding_model ELSE $7::text END,
          updated_at = ${NOW_MS}
      WHERE m.collection_id = $1 AND m.id = $2
      RETURNING ${MEMORY_COLUMNS}`;
    const values: unknown[] = [
      collectionId,
      id,
      patch.content ?? null,
      metadata,
      patch.embedding !== undefined ? encodeEmbedding(patch.embedding) : null,
      graph,
      patch.embeddingModel ?? null,
    ];
    const targets = this.outbox.targets;
    const { rows } = await this.pool.query<Returned & Record<string, unknown>>(
      targets.length === 0
        ? { name: "memories.patch", text: `WITH updated AS (${update}) SELECT u.*, NULL::text[] AS queued FROM updated AS u` }
        : {
            name: "memories.patch+outbox",
            text: `WITH updated AS (${update}), queued AS (${queueSql("upsert", "updated", "$8")})
                   SELECT u.*, (SELECT array_agg(id::text) FROM queued) AS queued FROM updated AS u`,
          },
      targets.length === 0 ? values : [...values, targets],
    );
    const row = rows[0];
    if (row === undefined) return null;
    if (row.queued !== null) await this.outbox.deliverNow(row.queued);
    return toMemory(row);
  }

  async delete(collectionId: string, id: string): Promise<boolean> {
    if (!isUuid(collectionId) || id.includes("\u0000")) return false;
    const targets = this.outbox.targets;
    const { rows } = await this.pool.query<{ deleted: number; queued: string[] | null }>(
      targets.length === 0
        ? {
            name: "memories.delete",
            text: `WITH gone AS (DELETE FROM memories WHERE collection_id = $1 AND id = $2 RETURNING 1)
                   SELECT count(*)::int AS deleted, NULL::text[] AS queued FROM gone`,
          }
        : {
            name: "memories.delete+outbox",
            text: `WITH gone AS (
                     DELETE FROM memories WHERE collection_id = $1 AND id = $2 RETURNING collection_id, id
                   ), queued AS (${queueSql("delete", "gone", "$3")})
                   SELECT (SELECT count(*)::int FROM gone) AS deleted, (SELECT array_agg(id::text) FROM queued) AS queued`,
          },
      targets.length === 0 ? [collectionId, id] : [collectionId, id, targets],
    );
    const { deleted, queued } = rows[0]!;
    if (queued !== null) await this.outbox.deliverNow(queued);
    return deleted > 0;
  }

  async keywordSearch(
    collectionId: string,
    query: string,
    k: number,
    filter: SearchFilter,
    opts: KeywordOptions = {},
  ): Promise<Hit[]> {
    const limit = clampCount(k, MAX_KEYWORD_HITS);
    const text = keywordText(query);
    if (text === null || limit === 0 || !isUuid(collectionId)) return [];
    const p = new SqlParams([collectionId, text, opts.minTermsMatched ?? 1, limit]);
    const where = compileFilter(filter, p, "m");
    // The tsquery is an uncorrelated subquery: computed once (an InitPlan), then used by the
    // GIN index scan and by ts_rank_cd (cover density, normalised by log of document length).
    const { rows } = await this.pool.query<{ id: string; score: number }>(
      `SELECT m.id, ts_rank_cd(m.tsv, q.tsq, 1)::float8 AS score
       FROM (SELECT ${tsquerySql("$2", "$3")} AS tsq) AS q
       JOIN memories AS m ON m.tsv @@ q.tsq
       WHERE m.collection_id = $1 AND ${where}
       ORDER BY score DESC, m.seq
       LIMIT $4`,
      p.values,
    );
    return rows;
  }

  async hydrate(collectionId: string, ids: string[]): Promise<Memory[]> {
    if (ids.length === 0 || !isUuid(collectionId)) return [];
    // No stored id holds U+0000 (PostgreSQL text cannot), so such an id is simply missing.
    if (ids.some((id) => id.includes("\u0000"))) ids = ids.filter((id) => !id.includes("\u0000"));
    const { rows } = await this.pool.query<MemoryRow & Record<string, unknown>>(
      {
        name: "memories.hydrate",
        text: `SELECT ${MEMORY_COLUMNS}
               FROM unnest($2::text[]) WITH ORDINALITY AS h(id, ord)
               JOIN memories AS m ON m.collection_id = $1 AND m.id = h.id
               ORDER BY h.ord`,
      },
      [collectionId, ids],
    );
    return rows.map(toMemory);
  }
}
