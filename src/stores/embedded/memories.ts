import type { Database } from "bun:sqlite";
import { keywordTableOf, type EmbeddedKeywordIndex } from "./keyword-index.ts";
import type { Memory, MemoryPatch, MemoryWrite, Page } from "../../domain/memory.ts";
import type { Hit, KeywordOptions, SearchFilter } from "../../domain/search.ts";
import type { MemoryStore } from "../../ports/memory-store.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { pageOfRows } from "../shared/page.ts";
import { CollectionNotFoundError, StaleUpdateError } from "../../domain/errors.ts";
import type { StatementCache } from "./database.ts";
import { assertEmbedding, clampCount, assertPatchEmbedded } from "../shared/checks.ts";
import { compileFilter } from "./filters.ts";
import { toFtsQuery } from "./keyword.ts";
import { runSearch, type SearchThreads } from "./search-threads.ts";
import { EmbeddedGraphWriter } from "./graph-writer.ts";
import type { ChangeContext, MemoryChange } from "../../domain/memory-change.ts";
import type { MemoryHistoryStore } from "../../ports/memory-history.ts";
import type { ExpiringMemoryStore } from "../../ports/memory-expiry.ts";
import { EmbeddedChangeLog, type StoredState } from "./change-log.ts";
import { canonicalExpiry, type Clock, systemClock } from "../shared/expiry.ts";
import { MAX_DELETE_MANY, type BulkDeleteOptions, type BulkDeletion, type MemorySelector } from "../../domain/bulk-delete.ts";
import type { SqlFragment } from "./filters.ts";

export const MAX_PAGE_SIZE = 1000;

export interface MemoryRow {
  seq: number;
  id: string;
  collection_id: string;
  content: string;
  metadata: string;
  created_at: string;
  updated_at: string;
  graph: string | null;
  expires_at: string | null;
}

export const COLUMNS = "seq, id, collection_id, content, metadata, created_at, updated_at, graph, expires_at";

/** Keyword candidates read from the index a hit asked for, and at least (memories.ts keywordSearch). */
const KEYWORD_CANDIDATES_PER_HIT = 4;
const MIN_KEYWORD_CANDIDATES = 100;

/** The SQL condition "not expired at ?" on a memories row (alias optional). */
const live = (alias = "") => `(${alias}expires_at IS NULL OR ${alias}expires_at > ?)`;

/** A row a bulk delete picked: what it deletes and what the change log records of it. */
interface PickedRow {
  seq: number;
  id: string;
  content: string;
  metadata: string;
  expires_at: string | null;
}

const stored = (row: { content: string; metadata: string; expires_at: string | null }): StoredState => ({
  content: row.content,
  metadata: row.metadata,
  expires_at: row.expires_at,
});

/**
 * A write's `updated_at`: now, or 1 ms after the previous one when that is not earlier (two
 * writes in one millisecond, or a clock step back), so every write changes it and a patch's
 * `ifUpdatedAt` can tell any write since its read.
 */
function laterStamp(now: string, previous: string): string {
  return now > previous ? now : new Date(Date.parse(previous) + 1).toISOString();
}

export function toMemory(row: MemoryRow): Memory {
  return {
    id: row.id,
    collection_id: row.collection_id,
    content: row.content,
    metadata: JSON.parse(row.metadata) as Memory["metadata"],
    created_at: row.created_at,
    updated_at: row.updated_at,
    graph: row.graph === null ? null : (JSON.parse(row.graph) as Memory["graph"]),
    expires_at: row.expires_at,
  };
}

function metadataJson(metadata: unknown, what: string): string {
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new TypeError(`${what} must be an object`);
  }
  return JSON.stringify(metadata);
}

export interface EmbeddedMemoryStoreOptions {
  /** Milliseconds clock for timestamps and expiry; default Date.now (tests inject one). */
  now?: Clock;
  /** Where keyword searches run when there are threads (else on this connection). */
  searchThreads?: SearchThreads;
}

/**
 * Memories in SQLite. Every write updates the row, its FTS row (triggers), its vec0 row, its
 * scanned embedding and the collection's change log in one transaction, so the vector index
 * never lags the source of truth and the log never misses a change.
 */
export class EmbeddedMemoryStore implements MemoryStore, MemoryHistoryStore, ExpiringMemoryStore {
  private readonly seqStmt;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly insertVectorStmt;
  private readonly updateVectorStmt;
  private readonly upsertEmbeddingStmt;
  private readonly setModelStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly hydrateStmt;
  private readonly deleteBySeqStmt;
  private readonly dueStmt;
  private readonly writeBatch;
  private readonly patchTx;
  private readonly deleteTx;
  private readonly deleteManyTx;
  private readonly purgeTx;
  private readonly log: EmbeddedChangeLog;
  private readonly now: Clock;
  private readonly searchThreads?: SearchThreads;

  constructor(
    db: Database,
    private readonly statements: StatementCache,
    readonly dimensions: number,
    private readonly keywords: EmbeddedKeywordIndex,
    options: EmbeddedMemoryStoreOptions = {},
  ) {
    this.now = options.now ?? systemClock;
    this.searchThreads = options.searchThreads;
    const log = (this.log = new EmbeddedChangeLog(db));
    this.seqStmt = db.prepare<{ seq: number; updated_at: string; content: string; metadata: string; expires_at: string | null }, [string, string]>(
      "SELECT seq, updated_at, content, metadata, expires_at FROM memories WHERE collection_id = ? AND id = ?",
    );
    this.insertStmt = db.prepare<{ seq: number }, [string, string, string, string, string, string, string | null, string | null, string | null]>(
      `INSERT INTO memories (collection_id, id, content, metadata, created_at, updated_at, graph, expires_at, embedding_model)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
    );
    this.setModelStmt = db.prepare<null, [string | null, number]>("UPDATE memories SET embedding_model = ? WHERE seq = ?");
    this.updateStmt = db.prepare<MemoryRow, [string, string, string, string | null, string | null, number]>(
      `UPDATE memories SET content = ?, metadata = ?, updated_at = ?, graph = ?, expires_at = ? WHERE seq = ? RETURNING ${COLUMNS}`,
    );
    const graph = new EmbeddedGraphWriter(db);
    this.insertVectorStmt = db.prepare<null, [number, Float32Array, string]>(
      "INSERT INTO memory_vectors (rowid, embedding, collection_id) VALUES (?, ?, ?)",
    );
    this.updateVectorStmt = db.prepare<null, [Float32Array, number]>(
      "UPDATE memory_vectors SET embedding = ? WHERE rowid = ?",
    );
    this.upsertEmbeddingStmt = db.prepare<null, [number, Float32Array]>(
      "INSERT OR REPLACE INTO memory_embeddings (seq, embedding) VALUES (?, ?)",
    );
    this.getStmt = db.prepare<MemoryRow, [string, string, string]>(
      `SELECT ${COLUMNS} FROM memories WHERE collection_id = ? AND id = ? AND ${live()}`,
    );
    this.listStmt = db.prepare<MemoryRow, [string, number, string, number]>(
      `SELECT ${COLUMNS} FROM memories WHERE collection_id = ? AND seq > ? AND ${live()} ORDER BY seq LIMIT ?`,
    );
    // Triggers remove the vec0 and embedding rows in the same statement; callers remove the keyword row.
    this.deleteBySeqStmt = db.prepare<null, [number]>("DELETE FROM memories WHERE seq = ?");
    this.hydrateStmt = db.prepare<MemoryRow, [string, string, string]>(
      `SELECT ${COLUMNS} FROM memories
       WHERE collection_id = ? AND id IN (SELECT value FROM json_each(?)) AND ${live()}`,
    );
    this.dueStmt = db.prepare<{ seq: number; collection_id: string; id: string; content: string; metadata: string; expires_at: string }, [string, number]>(
      `SELECT seq, collection_id, id, content, metadata, expires_at FROM memories
       WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
    );

    this.writeBatch = db.transaction(
      (collectionId: string, rows: { item: MemoryWrite; metadata: string; expiresAt: string | null }[], now: string, by: string | null) => {
        for (const { item, metadata, expiresAt } of rows) {
          let existing = this.seqStmt.get(collectionId, item.id);
          if (existing !== null && existing.expires_at !== null && existing.expires_at <= now) {
            // Expired but not yet purged: it is gone, and this write creates the id anew.
            this.deleteBySeqStmt.run(existing.seq);
            this.keywords.remove(collectionId, existing.seq);
            log.record(collectionId, item.id, existing.seq, "expire", now, null, stored(existing), null);
            existing = null;
          }
          const graphJson = item.graph === undefined ? null : JSON.stringify(item.graph);
          const next: StoredState = { content: item.content, metadata, expires_at: expiresAt };
          if (existing !== null) {
            this.updateStmt.run(item.content, metadata, laterStamp(now, existing.updated_at), graphJson, expiresAt, existing.seq);
            if (existing.content !== item.content) this.keywords.put(collectionId, existing.seq, item.content);
            this.updateVectorStmt.run(item.embedding, existing.seq);
            this.upsertEmbeddingStmt.run(existing.seq, item.embedding);
            this.setModelStmt.run(item.embeddingModel ?? null, existing.seq);
            graph.replace(collectionId, existing.seq, item.graph);
            log.record(collectionId, item.id, existing.seq, "replace", now, by, stored(existing), next);
          } else {
            const { seq } = this.insertStmt.get(collectionId, item.id, item.content, metadata, now, now, graphJson, expiresAt, item.embeddingModel ?? null)!;
            this.insertVectorStmt.run(seq, item.embedding, collectionId);
            this.keywords.put(collectionId, seq, item.content);
            this.upsertEmbeddingStmt.run(seq, item.embedding);
            graph.replace(collectionId, seq, item.graph);
            log.record(collectionId, item.id, seq, "create", now, by, null, next);
          }
        }
      },
    );

    this.patchTx = db.transaction(
      (collectionId: string, id: string, patch: MemoryPatch, metadata: string | undefined, now: string, by: string | null): Memory | null => {
        const row = this.getStmt.get(collectionId, id, now);
        if (row === null) return null;
        if (patch.ifUpdatedAt !== undefined && row.updated_at !== patch.ifUpdatedAt) throw new StaleUpdateError(id);
        const graphJson = patch.graph === undefined ? row.graph : JSON.stringify(patch.graph);
        const stamp = laterStamp(now, row.updated_at);
        const expiresAt = patch.expiresAt === undefined ? row.expires_at : patch.expiresAt;
        const updated = this.updateStmt.get(patch.content ?? row.content, metadata ?? row.metadata, stamp, graphJson, expiresAt, row.seq)!;
        if (updated.content !== row.content) this.keywords.put(collectionId, row.seq, updated.content);
        if (patch.graph !== undefined) graph.replace(collectionId, row.seq, patch.graph);
        if (patch.embedding !== undefined) {
          this.updateVectorStmt.run(patch.embedding, row.seq);
          this.upsertEmbeddingStmt.run(row.seq, patch.embedding);
          this.setModelStmt.run(patch.embeddingModel ?? null, row.seq);
        }
        log.record(collectionId, id, row.seq, "patch", now, by, stored(row), stored(updated));
        return toMemory(updated);
      },
    );

    this.deleteTx = db.transaction((collectionId: string, id: string, now: string, by: string | null): boolean => {
      const row = this.getStmt.get(collectionId, id, now);
      if (row === null) return false;
      this.deleteBySeqStmt.run(row.seq);
      this.keywords.remove(collectionId, row.seq);
      log.record(collectionId, id, row.seq, "delete", now, by, stored(row), null);
      return true;
    });

    this.deleteManyTx = db.transaction(
      (collectionId: string, selector: MemorySelector, limit: number, now: string, by: string | null): BulkDeletion => {
        const picked = this.picked(collectionId, selector, limit, now);
        const rows = picked.slice(0, limit);
        for (const row of rows) {
          this.deleteBySeqStmt.run(row.seq);
          this.keywords.remove(collectionId, row.seq);
          log.record(collectionId, row.id, row.seq, "delete", now, by, stored(row), null);
        }
        return { ids: rows.map((row) => row.id), more: picked.length > limit };
      },
    );

    this.purgeTx = db.transaction((now: string, limit: number): number => {
      const due = this.dueStmt.all(now, limit);
      for (const row of due) {
        this.deleteBySeqStmt.run(row.seq);
        this.keywords.remove(row.collection_id, row.seq);
        log.record(row.collection_id, row.id, row.seq, "expire", now, null, stored(row), null);
      }
      return due.length;
    });
  }

  private nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  async upsert(collectionId: string, items: MemoryWrite[], ctx?: ChangeContext): Promise<void> {
    if (items.length === 0) return;
    // Validate everything before writing anything; the transaction covers the rest.
    const rows = items.map((item, i) => {
      if (typeof item.id !== "string" || item.id.length === 0) {
        throw new TypeError(`items[${i}].id must be a non-empty string`);
      }
      if (typeof item.content !== "string") throw new TypeError(`items[${i}].content must be a string`);
      assertEmbedding(item.embedding, this.dimensions, `items[${i}].embedding`);
      const expiresAt = canonicalExpiry(item.expiresAt ?? null, `items[${i}].expiresAt`);
      return { item, metadata: metadataJson(item.metadata, `items[${i}].metadata`), expiresAt };
    });
    try {
      this.writeBatch.immediate(collectionId, rows, this.nowIso(), ctx?.by ?? null);
    } catch (error) {
      if (error instanceof Error && /FOREIGN KEY constraint failed/.test(error.message)) throw new CollectionNotFoundError(collectionId);
      throw error;
    }
  }

  async get(collectionId: string, id: string): Promise<Memory | null> {
    const row = this.getStmt.get(collectionId, id, this.nowIso());
    return row === null ? null : toMemory(row);
  }

  async list(collectionId: string, opts: { limit: number; cursor?: string; filter?: SearchFilter }): Promise<Page<Memory>> {
    const after = opts.cursor === undefined ? 0 : decodeCursor(opts.cursor);
    const limit = Math.max(1, clampCount(opts.limit, MAX_PAGE_SIZE));
    const where = compileFilter(opts.filter, "m");
    const rows =
      where.sql === "1"
        ? this.listStmt.all(collectionId, after, this.nowIso(), limit + 1)
        : this.statements
            .get<MemoryRow>(
              `SELECT ${COLUMNS} FROM memories AS m WHERE collection_id = ? AND seq > ? AND ${live("m.")} AND ${where.sql} ORDER BY seq LIMIT ?`,
            )
            .all(collectionId, after, this.nowIso(), ...where.params, limit + 1);
    return pageOfRows(rows, limit, toMemory, encodeCursor);
  }

  async patch(collectionId: string, id: string, patch: MemoryPatch, ctx?: ChangeContext): Promise<Memory | null> {
    assertPatchEmbedded(patch);
    if (patch.embedding !== undefined) assertEmbedding(patch.embedding, this.dimensions);
    if (
      patch.content === undefined &&
      patch.metadata === undefined &&
      patch.embedding === undefined &&
      patch.graph === undefined &&
      patch.expiresAt === undefined
    ) {
      return this.get(collectionId, id);
    }
    const metadata = patch.metadata !== undefined ? metadataJson(patch.metadata, "metadata") : undefined;
    const expiresAt = canonicalExpiry(patch.expiresAt);
    return this.patchTx.immediate(collectionId, id, { ...patch, expiresAt }, metadata, this.nowIso(), ctx?.by ?? null);
  }

  async delete(collectionId: string, id: string, ctx?: ChangeContext): Promise<boolean> {
    return this.deleteTx.immediate(collectionId, id, this.nowIso(), ctx?.by ?? null);
  }

  async deleteMany(collectionId: string, selector: MemorySelector, opts: BulkDeleteOptions, ctx?: ChangeContext): Promise<BulkDeletion> {
    const limit = clampCount(opts.limit, MAX_DELETE_MANY);
    if (limit === 0 || ("ids" in selector && selector.ids.length === 0)) return { ids: [], more: false };
    const now = this.nowIso();
    if (opts.dryRun === true) {
      const picked = this.picked(collectionId, selector, limit, now);
      return { ids: picked.slice(0, limit).map((row) => row.id), more: picked.length > limit };
    }
    return this.deleteManyTx.immediate(collectionId, selector, limit, now, ctx?.by ?? null);
  }

  /** The live memories `selector` picks, oldest first, `limit + 1` at most (the extra one tells `more`). */
  private picked(collectionId: string, selector: MemorySelector, limit: number, now: string): PickedRow[] {
    const where: SqlFragment =
      "ids" in selector
        ? { sql: "m.id IN (SELECT value FROM json_each(?))", params: [JSON.stringify(selector.ids)] }
        : compileFilter(selector.filter, "m");
    return this.statements
      .get<PickedRow>(
        `SELECT m.seq, m.id, m.content, m.metadata, m.expires_at FROM memories AS m
         WHERE m.collection_id = ? AND ${live("m.")} AND ${where.sql} ORDER BY m.seq LIMIT ?`,
      )
      .all(collectionId, now, ...where.params, limit + 1);
  }

  async purgeExpired(limit: number): Promise<number> {
    const n = clampCount(limit, 100_000);
    return n === 0 ? 0 : this.purgeTx.immediate(this.nowIso(), n);
  }

  async history(collectionId: string, memoryId: string, opts: { limit: number; cursor?: string }): Promise<Page<MemoryChange>> {
    return this.log.history(collectionId, memoryId, opts, MAX_PAGE_SIZE);
  }

  async changesSince(collectionId: string, afterSeq: number, limit: number): Promise<MemoryChange[]> {
    return this.log.since(collectionId, afterSeq, limit);
  }

  async pruneHistory(before: Date, limit: number): Promise<number> {
    return this.log.prune(before.toISOString(), limit);
  }

  async keywordSearch(
    collectionId: string,
    query: string,
    k: number,
    filter: SearchFilter,
    opts: KeywordOptions = {},
  ): Promise<Hit[]> {
    const limit = clampCount(k, 10_000);
    const match = toFtsQuery(query, opts.minTermsMatched ?? 1);
    if (match === null || limit === 0) return [];
    const table = keywordTableOf(collectionId);
    if (table === null) return [];
    const where = compileFilter(filter, "m");
    const now = this.nowIso();
    // The collection's own index: BM25 statistics of its memories only. FTS5 scores every match
    // either way; joining each match to `memories` (liveness, filter) cost twice the scoring, so
    // the best `candidates` matches are taken from the index alone and only they are joined.
    // Any hit that passes ranks above every match outside them, so when `limit` of them pass
    // the answer is exact; else the unbounded join answers.
    const candidates = Math.max(limit * KEYWORD_CANDIDATES_PER_HIT, MIN_KEYWORD_CANDIDATES);
    const joinedSql = (matches: string) => `SELECT m.id AS id, c.score AS score
         FROM ${matches} AS c CROSS JOIN memories AS m ON m.seq = c.seq
         WHERE m.collection_id = ? AND ${live("m.")} AND ${where.sql}
         ORDER BY c.score DESC, m.seq
         LIMIT ?`;
    const joinParams = [collectionId, now, ...where.params, limit];
    const matches = `SELECT rowid AS seq, -bm25(${table}) AS score FROM ${table} WHERE ${table} MATCH ?`;
    try {
      return await runSearch(this.searchThreads, this.statements, {
        // MATERIALIZED and CROSS JOIN keep SQLite from driving the join from `memories`
        sql: `WITH best AS MATERIALIZED (${matches} ORDER BY bm25(${table}), rowid LIMIT ?) ${joinedSql("best")}`,
        params: [match, candidates, ...joinParams],
        orElse: { below: limit, sql: joinedSql(`(${matches})`), params: [match, ...joinParams] },
      });
    } catch (error) {
      if (/no such table/.test(String(error))) return []; // no such collection (deleted, or never made)
      throw error;
    }
  }

  async matchingIds(collectionId: string, ids: string[], filter: SearchFilter): Promise<string[]> {
    if (ids.length === 0) return [];
    const where = compileFilter(filter, "m");
    const statement = this.statements.get<{ id: string }>(
      `SELECT m.id AS id FROM memories AS m
       WHERE m.collection_id = ? AND m.id IN (SELECT value FROM json_each(?)) AND ${live("m.")} AND ${where.sql}`,
    );
    const found = new Set(statement.all(collectionId, JSON.stringify(ids), this.nowIso(), ...where.params).map((row) => row.id));
    return ids.filter((id) => found.has(id));
  }

  async hydrate(collectionId: string, ids: string[]): Promise<Memory[]> {
    if (ids.length === 0) return [];
    const rows = this.hydrateStmt.all(collectionId, JSON.stringify(ids), this.nowIso());
    const byId = new Map(rows.map((row) => [row.id, row]));
    const memories: Memory[] = [];
    for (const id of ids) {
      const row = byId.get(id);
      if (row !== undefined) memories.push(toMemory(row));
    }
    return memories;
  }
}
