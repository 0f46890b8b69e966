import type { Memory, MemoryPatch, MemoryWrite, Page } from "../../domain/memory.ts";
import type { Hit, KeywordOptions, SearchFilter } from "../../domain/search.ts";
import type { HydrateOptions, MemoryStore } from "../../ports/memory-store.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { pageOfRows } from "../shared/page.ts";
import { assertEmbedding, clampCount, assertPatchEmbedded } from "../shared/checks.ts";
import { encodeEmbedding, encodeEmbeddings } from "./embedding.ts";
import { compileFilter, SqlParams } from "./filters.ts";
import { keywordText } from "./keyword.ts";
import { keywordQuerySql } from "./keyword-index.ts";
import { type Outbox, queueSql } from "./outbox.ts";
import type { PgPool, Sql } from "./pool.ts";
import { assertNoNul, isoSql, isUuid, MEMORY_COLUMNS, type MemoryRow, NOW_MS, toMemory } from "./rows.ts";
import { CollectionNotFoundError, StaleUpdateError } from "../../domain/errors.ts";
import { isForeignKeyViolation } from "./errors.ts";
import type { ChangeContext, MemoryChange } from "../../domain/memory-change.ts";
import type { MemoryHistoryStore } from "../../ports/memory-history.ts";
import type { ExpiringMemoryStore } from "../../ports/memory-expiry.ts";
import { CHANGE_COLUMNS, type ChangeRow, type ChangeWriter, type LoggedState, toChange, withChangeLog } from "./change-log.ts";
import { canonicalExpiry, type Clock, systemClock } from "../shared/expiry.ts";
import { MAX_DELETE_MANY, type BulkDeleteOptions, type BulkDeletion, type MemorySelector } from "../../domain/bulk-delete.ts";

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

/** "Not expired at $n" on the memories row aliased `m`. */
/**
 * A query whose text varies only with its compiled filter: unfiltered (the common case, one text)
 * it is a named statement, prepared once a connection; filtered, its texts are too many to keep.
 */
const namedWhenUnfiltered = (name: string, where: string, text: string, values: unknown[]): Sql =>
  where === "true" ? { name, text, values } : { text, values };

const live = (param: string) => `(m.expires_at IS NULL OR m.expires_at > ${param}::timestamptz)`;

/** A memory's current state as the change log records it (metadata as exact JSON text). */
interface OldRow {
  id: string;
  content: string;
  metadata: string;
  expires_at: string | null;
  expired: boolean;
}

const OLD_COLUMNS = `m.id, m.content, m.metadata::text AS metadata, ${isoSql("m.expires_at")} AS expires_at`;

const logged = (row: { content: string; metadata: string; expires_at: string | null }): LoggedState => ({
  content: row.content,
  metadata: row.metadata,
  expires_at: row.expires_at,
});

export interface PostgresMemoryStoreOptions {
  /** Milliseconds clock that expiry is judged by; default Date.now (tests inject one). */
  now?: Clock;
  /**
   * Documents keyword search reads a query word, best first (keyword-index.ts); a common word's
   * others count for nothing in the score. 0 reads every document (exact BM25, slower for
   * common words). Default DEFAULT_KEYWORD_TERM_DOCS.
   */
  keywordTermDocs?: number;
  /**
   * Where the reads that tolerate lag (list, keyword search, hydrate) run: a replica when it has
   * replayed the collection's writes (replica-reads.ts). Default: the primary.
   */
  reads?: CollectionReads;
}

export const DEFAULT_KEYWORD_TERM_DOCS = 1000;

/**
 * Memories in PostgreSQL, the source of truth. Each write is one transaction: it holds the
 * collection's change-log head (change-log.ts), reads the old state, writes the rows and their
 * outbox rows (one per index writer) and appends its change-log entries, which all commit
 * together; the write then waits, bounded, for the outbox to deliver them (read-your-writes in
 * Milvus / Neo4j when they are up).
 */
import { GroupCommit } from "./group-commit.ts";
import type { CollectionReads } from "./replica-reads.ts";
/** One upsert call, validated, in columns (one entry per distinct id). */
interface PreparedUpsert {
  ids: string[];
  contents: string[];
  metadata: string[];
  graphs: (string | null)[];
  expiries: (string | null)[];
  models: (string | null)[];
  vectors: Float32Array[];
  by: string | null;
}

function concatUpserts(writes: PreparedUpsert[]): PreparedUpsert {
  const all: PreparedUpsert = { ids: [], contents: [], metadata: [], graphs: [], expiries: [], models: [], vectors: [], by: null };
  for (const w of writes) {
    all.ids.push(...w.ids);
    all.contents.push(...w.contents);
    all.metadata.push(...w.metadata);
    all.graphs.push(...w.graphs);
    all.expiries.push(...w.expiries);
    all.models.push(...w.models);
    all.vectors.push(...w.vectors);
  }
  return all;
}

/** Most memories one group-committed transaction writes. */
const MAX_GROUP_ITEMS = 1000;

/** Whether `next` may share a transaction with `batch`: no id twice, one vector width, a bounded size. */
function canJoin(batch: PreparedUpsert[], next: PreparedUpsert): boolean {
  let items = next.ids.length;
  const width = next.vectors[0]!.length;
  for (const w of batch) {
    items += w.ids.length;
    if (items > MAX_GROUP_ITEMS || w.vectors[0]!.length !== width || w.ids.some((id) => next.ids.includes(id))) return false;
  }
  return true;
}

export class PostgresMemoryStore implements MemoryStore, MemoryHistoryStore, ExpiringMemoryStore {
  private readonly now: Clock;
  private readonly keywordTermDocs: number;
  private readonly reads: CollectionReads;
  /** Concurrent upserts of a collection, committed together (group-commit.ts). */
  readonly upserts = new GroupCommit<PreparedUpsert, string[]>((collectionId, writes) => this.commitUpserts(collectionId, writes), canJoin);
  private readonly deliveries = new WeakMap<string[], Promise<void>>();

  constructor(
    private readonly pool: PgPool,
    private readonly outbox: Outbox,
    /** When set, every embedding must have this length; otherwise a batch must agree on one. */
    readonly dimensions?: number,
    options: PostgresMemoryStoreOptions = {},
  ) {
    this.now = options.now ?? systemClock;
    this.keywordTermDocs = options.keywordTermDocs ?? DEFAULT_KEYWORD_TERM_DOCS;
    this.reads = options.reads ?? { query: (_collectionId, sql, values) => pool.query(sql, values) };
  }

  private nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  /** The rows of these ids as they are now (inside a change transaction: exactly what is replaced). */
  private async oldRows(writer: ChangeWriter, collectionId: string, ids: string[], now: string): Promise<Map<string, OldRow>> {
    const { rows } = await writer.client.query<OldRow>(
      {
        name: "memories.old",
        text: `SELECT ${OLD_COLUMNS}, NOT ${live("$3")} AS expired
               FROM memories AS m WHERE m.collection_id = $1 AND m.id = ANY ($2::text[])`,
      },
      [collectionId, ids, now],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Deletes these memories (outbox included) and records each as `op`; returns the ids deleted and the outbox rows. */
  private async deleteRows(
    writer: ChangeWriter,
    collectionId: string,
    ids: string[],
    op: "delete" | "expire",
    by: string | null,
    now: string,
  ): Promise<{ deleted: number; ids: string[]; queued: string[] }> {
    if (ids.length === 0) return { deleted: 0, ids: [], queued: [] };
    // `delete` takes only live memories, `expire` only expired ones: each is a no-op on the other
    // (and on a memory another worker already removed), so a purge is idempotent.
    const condition = op === "delete" ? live("$3") : `NOT ${live("$3")}`;
    const { rows } = await writer.client.query<OldRow & { queued: string[] | null }>(
      {
        name: `memories.${op}+outbox`,
        text: `WITH gone AS (
                 DELETE FROM memories AS m WHERE m.collection_id = $1 AND m.id = ANY ($2::text[]) AND ${condition}
                 RETURNING m.collection_id, ${OLD_COLUMNS}
               ), queued AS (${queueSql("delete", "gone", "$4")})
               SELECT g.id, g.content, g.metadata, g.expires_at, (SELECT array_agg(id::text) FROM queued) AS queued FROM gone AS g`,
      },
      [collectionId, ids, now, this.outbox.targets],
    );
    for (const row of rows) writer.record({ memoryId: row.id, op, by, old: logged(row), new: null });
    return { deleted: rows.length, ids: rows.map((row) => row.id), queued: rows[0]?.queued ?? [] };
  }

  async upsert(collectionId: string, items: MemoryWrite[], ctx?: ChangeContext): Promise<void> {
    if (items.length === 0) return;
    const prepared = this.prepareUpsert(collectionId, items, ctx?.by ?? null);
    const queued = await this.upserts.submit(collectionId, prepared);
    // the group shares one array of queued rows: its immediate delivery is started once
    let delivery = this.deliveries.get(queued);
    if (!delivery) this.deliveries.set(queued, (delivery = this.outbox.deliverNow(queued)));
    await delivery;
  }

  /** Validates a write and puts it in columns; throws before anything is written. */
  private prepareUpsert(collectionId: string, items: MemoryWrite[], by: string | null): PreparedUpsert {
    const width = this.dimensions ?? (items[0]?.embedding as Float32Array | undefined)?.length;
    const p: PreparedUpsert = { ids: [], contents: [], metadata: [], graphs: [], expiries: [], models: [], vectors: [], by };
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
      const expiresAt = canonicalExpiry(item.expiresAt ?? null, `items[${i}].expiresAt`);
      const at = position.get(item.id);
      if (at === undefined) {
        position.set(item.id, p.ids.length);
        p.ids.push(item.id);
        p.contents.push(item.content);
        p.metadata.push(json);
        p.graphs.push(graph);
        p.expiries.push(expiresAt);
        p.models.push(item.embeddingModel ?? null);
        p.vectors.push(item.embedding);
      } else {
        p.contents[at] = item.content;
        p.metadata[at] = json;
        p.graphs[at] = graph;
        p.expiries[at] = expiresAt;
        p.models[at] = item.embeddingModel ?? null;
        p.vectors[at] = item.embedding;
      }
    });
    if (!isUuid(collectionId)) throw new RangeError(`collection ${collectionId} does not exist`);
    return p;
  }

  /**
   * Writes upserts of one collection in one transaction, in order (group-commit.ts); no id is in
   * two of them. Returns the outbox rows queued.
   */
  private async commitUpserts(collectionId: string, writes: PreparedUpsert[]): Promise<string[]> {
    const all = writes.length === 1 ? writes[0]! : concatUpserts(writes);
    const { ids, contents, metadata, graphs, expiries, models, vectors } = all;
    const bys = writes.flatMap((w) => w.ids.map(() => w.by));
    const width = vectors[0]!.length;
    const insert = `INSERT INTO memories AS m (collection_id, id, content, metadata, embedding, created_at, updated_at, graph, expires_at, embedding_model)
      SELECT $1::uuid, u.id, u.content, u.metadata::jsonb,
             substring($5::bytea FROM ((u.ord - 1) * $6::int + 1)::int FOR $6::int), t.now, t.now, u.graph::jsonb,
             u.expires_at::timestamptz, u.model
      FROM unnest($2::text[], $3::text[], $4::text[], $7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS u(id, content, metadata, graph, expires_at, model, ord),
           (SELECT ${NOW_MS} AS now) AS t
      ORDER BY u.ord
      ON CONFLICT (collection_id, id) DO UPDATE
        SET content = EXCLUDED.content, metadata = EXCLUDED.metadata,
            embedding = EXCLUDED.embedding, graph = EXCLUDED.graph, expires_at = EXCLUDED.expires_at,
            embedding_model = EXCLUDED.embedding_model,
            -- every write moves updated_at forward (a patch's ifUpdatedAt tells any write since its read)
            updated_at = greatest(EXCLUDED.updated_at, m.updated_at + interval '1 millisecond')
      RETURNING m.collection_id, m.id`;
    const now = this.nowIso();
    return withChangeLog(this.pool, collectionId, async (writer) => {
      const old = await this.oldRows(writer, collectionId, ids, now);
      // An expired memory not purged yet is gone: it is recorded as expired, and written anew.
      const expired = [...old.values()].filter((r) => r.expired).map((r) => r.id);
      const purged = await this.deleteRows(writer, collectionId, expired, "expire", null, now);
      const { rows } = await writer.client.query<{ queued: string[] | null }>(
        {
          name: "memories.upsert+outbox",
          text: `WITH written AS (${insert}), queued AS (${queueSql("upsert", "written", "$10")})
                 SELECT array_agg(id::text) AS queued FROM queued`,
        },
        [collectionId, ids, contents, metadata, encodeEmbeddings(vectors), width * 4, graphs, expiries, models, this.outbox.targets],
      );
      ids.forEach((id, i) => {
        const before = old.get(id);
        const next = { content: contents[i]!, metadata: metadata[i]!, expires_at: expiries[i]! };
        writer.record(
          before === undefined || before.expired
            ? { memoryId: id, op: "create", by: bys[i]!, old: null, new: next }
            : { memoryId: id, op: "replace", by: bys[i]!, old: logged(before), new: next },
        );
      });
      return [...purged.queued, ...(rows[0]?.queued ?? [])];
    });
  }

  async get(collectionId: string, id: string): Promise<Memory | null> {
    if (!isUuid(collectionId) || id.includes("\u0000")) return null;
    const { rows } = await this.pool.query<MemoryRow & Record<string, unknown>>(
      {
        name: "memories.get",
        text: `SELECT ${MEMORY_COLUMNS} FROM memories AS m WHERE m.collection_id = $1 AND m.id = $2 AND ${live("$3")}`,
      },
      [collectionId, id, this.nowIso()],
    );
    return rows[0] === undefined ? null : toMemory(rows[0]);
  }

  async list(collectionId: string, opts: { limit: number; cursor?: string; filter?: SearchFilter }): Promise<Page<Memory>> {
    const after = opts.cursor === undefined ? "0" : decodeCursor(opts.cursor);
    const limit = Math.max(1, clampCount(opts.limit, MAX_PAGE_SIZE));
    if (!isUuid(collectionId)) return { items: [], next_cursor: null };
    const p = new SqlParams([collectionId, after, limit + 1, this.nowIso()]);
    const where = compileFilter(opts.filter, p, "m");
    const text = `SELECT ${MEMORY_COLUMNS} FROM memories AS m
               WHERE m.collection_id = $1 AND m.seq > $2::bigint AND ${live("$4")} AND ${where} ORDER BY m.seq LIMIT $3`;
    const { rows } = await this.reads.query<MemoryRow & Record<string, unknown>>(
      collectionId,
      namedWhenUnfiltered("memories.list", where, text, p.values),
    );
    return pageOfRows(rows, limit, toMemory, encodeCursor);
  }

  async patch(collectionId: string, id: string, patch: MemoryPatch, ctx?: ChangeContext): Promise<Memory | null> {
    assertPatchEmbedded(patch);
    if (patch.content !== undefined) assertNoNul(patch.content, "content");
    if (patch.embedding !== undefined) assertEmbedding(patch.embedding, this.dimensions);
    const expiresAt = canonicalExpiry(patch.expiresAt);
    if (
      patch.content === undefined &&
      patch.metadata === undefined &&
      patch.embedding === undefined &&
      patch.graph === undefined &&
      expiresAt === undefined
    ) {
      return this.get(collectionId, id);
    }
    const metadata = patch.metadata !== undefined ? metadataJson(patch.metadata, "metadata") : null;
    const graph = patch.graph !== undefined ? metadataJson(patch.graph, "graph") : null;
    if (!isUuid(collectionId) || id.includes("\u0000")) return null;
    const now = this.nowIso();
    const update = `UPDATE memories AS m
      SET content = coalesce($3::text, m.content),
          metadata = coalesce($4::jsonb, m.metadata),
          embedding = coalesce($5::bytea, m.embedding),
          graph = coalesce($6::jsonb, m.graph),
          embedding_model = CASE WHEN $5::bytea IS NULL THEN m.embedding_model ELSE $12::text END,
          expires_at = CASE WHEN $7::boolean THEN $8::timestamptz ELSE m.expires_at END,
          -- every write moves updated_at forward (a patch's ifUpdatedAt tells any write since its read)
          updated_at = greatest(${NOW_MS}, m.updated_at + interval '1 millisecond')
      WHERE m.collection_id = $1 AND m.id = $2 AND ${live("$9")}
        AND ($11::timestamptz IS NULL OR m.updated_at = $11::timestamptz)
      RETURNING ${MEMORY_COLUMNS}, m.metadata::text AS metadata_text`;
    const values: unknown[] = [
      collectionId,
      id,
      patch.content ?? null,
      metadata,
      patch.embedding !== undefined ? encodeEmbedding(patch.embedding) : null,
      graph,
      expiresAt !== undefined,
      expiresAt ?? null,
      now,
      this.outbox.targets,
      patch.ifUpdatedAt ?? null,
      patch.embeddingModel ?? null,
    ];
    let row: (Returned & { metadata_text: string }) | undefined;
    try {
      row = await withChangeLog(this.pool, collectionId, async (writer) => {
        const old = (await this.oldRows(writer, collectionId, [id], now)).get(id);
        if (old === undefined || old.expired) return undefined;
        const { rows } = await writer.client.query<Returned & { metadata_text: string } & Record<string, unknown>>(
          {
            name: "memories.patch+outbox",
            text: `WITH updated AS (${update}), queued AS (${queueSql("upsert", "updated", "$10")})
                   SELECT u.*, (SELECT array_agg(id::text) FROM queued) AS queued FROM updated AS u`,
          },
          values,
        );
        const updated = rows[0];
        // it is there and live (old), so no row means it changed since the patch was computed
        if (updated === undefined && patch.ifUpdatedAt !== undefined) throw new StaleUpdateError(id);
        if (updated !== undefined) {
          writer.record({
            memoryId: id,
            op: "patch",
            by: ctx?.by ?? null,
            old: logged(old),
            new: { content: updated.content, metadata: updated.metadata_text, expires_at: updated.expires_at },
          });
        }
        return updated;
      });
    } catch (error) {
      if (error instanceof CollectionNotFoundError) return null;
      throw error;
    }
    if (row === undefined) return null;
    if (row.queued !== null) await this.outbox.deliverNow(row.queued);
    const { metadata_text: _text, ...memory } = row;
    return toMemory(memory);
  }

  async delete(collectionId: string, id: string, ctx?: ChangeContext): Promise<boolean> {
    if (!isUuid(collectionId) || id.includes("\u0000")) return false;
    let outcome: { deleted: number; ids: string[]; queued: string[] };
    try {
      outcome = await withChangeLog(this.pool, collectionId, (writer) =>
        this.deleteRows(writer, collectionId, [id], "delete", ctx?.by ?? null, this.nowIso()),
      );
    } catch (error) {
      if (error instanceof CollectionNotFoundError) return false;
      throw error;
    }
    await this.outbox.deliverNow(outcome.queued);
    return outcome.deleted > 0;
  }

  async deleteMany(collectionId: string, selector: MemorySelector, opts: BulkDeleteOptions, ctx?: ChangeContext): Promise<BulkDeletion> {
    const none: BulkDeletion = { ids: [], more: false };
    const limit = clampCount(opts.limit, MAX_DELETE_MANY);
    if (limit === 0 || !isUuid(collectionId)) return none;
    const now = this.nowIso();
    // The picked ids, oldest first, one more than `limit` (it tells `more`).
    const p = new SqlParams([collectionId, now, limit + 1]);
    let where: string;
    if ("ids" in selector) {
      // No stored id holds U+0000 (PostgreSQL text cannot), so such an id is simply missing.
      const ids = selector.ids.filter((id) => !id.includes("\u0000"));
      if (ids.length === 0) return none;
      where = `m.id = ANY (${p.add(ids)}::text[])`;
    } else {
      where = compileFilter(selector.filter, p, "m");
    }
    const pick = `SELECT m.id FROM memories AS m
                  WHERE m.collection_id = $1 AND ${live("$2")} AND ${where} ORDER BY m.seq LIMIT $3`;
    if (opts.dryRun === true) {
      const { rows } = await this.pool.query<{ id: string }>(pick, p.values);
      return { ids: rows.slice(0, limit).map((row) => row.id), more: rows.length > limit };
    }
    let outcome: { picked: string[]; more: boolean; deleted: Set<string>; queued: string[] };
    try {
      // Picked and deleted in one transaction that holds the collection's log head: no other
      // write of the collection comes between, and every deletion is logged and queued for the
      // derived indexes exactly as a single delete is.
      outcome = await withChangeLog(this.pool, collectionId, async (writer) => {
        const { rows } = await writer.client.query<{ id: string }>(pick, p.values);
        const picked = rows.slice(0, limit).map((row) => row.id);
        const gone = await this.deleteRows(writer, collectionId, picked, "delete", ctx?.by ?? null, now);
        return { picked, more: rows.length > limit, deleted: new Set(gone.ids), queued: gone.queued };
      });
    } catch (error) {
      if (error instanceof CollectionNotFoundError) return none;
      throw error;
    }
    await this.outbox.deliverNow(outcome.queued);
    return { ids: outcome.picked.filter((id) => outcome.deleted.has(id)), more: outcome.more };
  }

  async purgeExpired(limit: number): Promise<number> {
    const n = clampCount(limit, 100_000);
    if (n === 0) return 0;
    const now = this.nowIso();
    const { rows } = await this.pool.query<{ collection_id: string; ids: string[] }>(
      {
        name: "memories.due",
        text: `SELECT d.collection_id::text AS collection_id, array_agg(d.id) AS ids FROM (
                 SELECT m.collection_id, m.id FROM memories AS m
                 WHERE m.expires_at IS NOT NULL AND m.expires_at <= $1::timestamptz
                 ORDER BY m.expires_at LIMIT $2
               ) AS d GROUP BY d.collection_id`,
      },
      [now, n],
    );
    let purged = 0;
    for (const { collection_id: collectionId, ids } of rows) {
      try {
        const outcome = await withChangeLog(this.pool, collectionId, (writer) =>
          this.deleteRows(writer, collectionId, ids, "expire", null, now),
        );
        purged += outcome.deleted;
        await this.outbox.deliverNow(outcome.queued);
      } catch (error) {
        if (!(error instanceof CollectionNotFoundError)) throw error; // deleted meanwhile: nothing to purge
      }
    }
    return purged;
  }

  async history(collectionId: string, memoryId: string, opts: { limit: number; cursor?: string }): Promise<Page<MemoryChange>> {
    const after = opts.cursor === undefined ? "0" : decodeCursor(opts.cursor);
    const limit = Math.max(1, clampCount(opts.limit, MAX_PAGE_SIZE));
    if (!isUuid(collectionId) || memoryId.includes("\u0000")) return { items: [], next_cursor: null };
    const { rows } = await this.pool.query<ChangeRow & Record<string, unknown>>(
      {
        name: "changes.history",
        text: `SELECT ${CHANGE_COLUMNS} FROM memory_changes AS c
               WHERE c.collection_id = $1 AND c.memory_id = $2 AND c.seq > $3::bigint ORDER BY c.seq LIMIT $4`,
      },
      [collectionId, memoryId, after, limit + 1],
    );
    return pageOfRows(rows, limit, toChange, encodeCursor);
  }

  async changesSince(collectionId: string, afterSeq: number, limit: number): Promise<MemoryChange[]> {
    if (!isUuid(collectionId)) return [];
    const { rows } = await this.pool.query<ChangeRow & Record<string, unknown>>(
      {
        name: "changes.since",
        text: `SELECT ${CHANGE_COLUMNS} FROM memory_changes AS c WHERE c.collection_id = $1 AND c.seq > $2::bigint ORDER BY c.seq LIMIT $3`,
      },
      [collectionId, Math.max(0, Math.trunc(afterSeq)), clampCount(limit, 10_000)],
    );
    return rows.map(toChange);
  }

  async pruneHistory(before: Date, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      {
        name: "changes.prune",
        // an entry an enabled webhook has yet to deliver is kept past the retention
        text: `DELETE FROM memory_changes WHERE (collection_id, seq) IN (
                 SELECT c.collection_id, c.seq FROM memory_changes c WHERE c.at < $1::timestamptz
                   AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.collection_id = c.collection_id AND w.enabled AND w.delivered_seq < c.seq)
                 LIMIT $2)`,
      },
      [before.toISOString(), clampCount(limit, 1_000_000)],
    );
    return rowCount ?? 0;
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
    const minTerms = opts.minTermsMatched ?? 1;
    if (this.keywordTermDocs === 0) return (await this.keywordQuery(collectionId, text, minTerms, limit, filter, null, null)).hits;
    const perTerm = Math.max(this.keywordTermDocs, 2 * limit + 20);
    const checked = 2 * limit + 20;
    const bounded = await this.keywordQuery(collectionId, text, minTerms, limit, filter, perTerm, checked);
    if (bounded.hits.length === limit) return bounded.hits;
    // Fewer hits than wanted: exact BM25 when a bound may be why (the liveness and filter checks
    // ran out of candidates; for keyword search also a common word read only in part). Hybrid
    // (two words must match) keeps its bounded candidates: they are one side of a fusion.
    const ranOut = bounded.candidates > checked || (minTerms === 1 && bounded.longest > perTerm);
    if (!ranOut) return bounded.hits;
    return (await this.keywordQuery(collectionId, text, minTerms, limit, filter, null, null)).hits;
  }

  private async keywordQuery(
    collectionId: string,
    text: string,
    minTerms: number,
    limit: number,
    filter: SearchFilter,
    perTerm: number | null,
    checked: number | null,
  ): Promise<{ hits: Hit[]; longest: number; candidates: number }> {
    const p = new SqlParams([collectionId, text, minTerms, limit, perTerm, checked]);
    const where = compileFilter(filter, p, "m");
    // planning this query cost about a millisecond of PostgreSQL's CPU, a quarter of its execution
    const { rows } = await this.reads.query<{ id: string | null; score: number | null; longest: number | null; candidates: number | null }>(
      collectionId,
      namedWhenUnfiltered("memories.keyword", where, keywordQuerySql(where, live(p.add(this.nowIso()))), p.values),
    );
    const hits: Hit[] = [];
    let longest = 0;
    let candidates = 0;
    for (const row of rows) {
      if (row.id === null) {
        longest = row.longest ?? 0;
        candidates = row.candidates ?? 0;
      } else hits.push({ id: row.id, score: row.score ?? 0 });
    }
    return { hits, longest, candidates };
  }

  async matchingIds(collectionId: string, ids: string[], filter: SearchFilter): Promise<string[]> {
    if (ids.length === 0 || !isUuid(collectionId)) return [];
    // No stored id holds U+0000 (PostgreSQL text cannot), so such an id is simply missing.
    const candidates = ids.filter((id) => !id.includes("\u0000"));
    const p = new SqlParams([collectionId, candidates, this.nowIso()]);
    const where = compileFilter(filter, p, "m");
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT m.id FROM memories AS m
       WHERE m.collection_id = $1 AND m.id = ANY($2::text[]) AND ${live("$3")} AND ${where}`,
      p.values,
    );
    const found = new Set(rows.map((row) => row.id));
    return candidates.filter((id) => found.has(id));
  }

  async hydrate(collectionId: string, ids: string[], opts: HydrateOptions = {}): Promise<Memory[]> {
    if (ids.length === 0 || !isUuid(collectionId)) return [];
    // No stored id holds U+0000 (PostgreSQL text cannot), so such an id is simply missing.
    if (ids.some((id) => id.includes("\u0000"))) ids = ids.filter((id) => !id.includes("\u0000"));
    const { rows } = await this.reads.query<MemoryRow & Record<string, unknown>>(
      collectionId,
      {
        name: "memories.hydrate",
        text: `SELECT ${MEMORY_COLUMNS}
               FROM unnest($2::text[]) WITH ORDINALITY AS h(id, ord)
               JOIN memories AS m ON m.collection_id = $1 AND m.id = h.id
               WHERE ${live("$3")}
               ORDER BY h.ord`,
      },
      [collectionId, ids, this.nowIso()],
      // 0 is also "no head row", which the router must see as such (no_head): it reads that itself
      opts.changeHead !== undefined && opts.changeHead > 0 ? { primaryHead: BigInt(opts.changeHead) } : undefined,
    );
    return rows.map(toMemory);
  }
}
