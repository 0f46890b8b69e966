import type { Database } from "bun:sqlite";
import type { Memory, MemoryPatch, MemoryWrite, Page } from "../../domain/memory.ts";
import type { Hit, KeywordOptions, SearchFilter } from "../../domain/search.ts";
import type { MemoryStore } from "../../ports/memory-store.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { CollectionNotFoundError } from "../../domain/errors.ts";
import type { StatementCache } from "./database.ts";
import { assertEmbedding, clampCount } from "../shared/checks.ts";
import { compileFilter } from "./filters.ts";
import { toFtsQuery } from "./keyword.ts";
import { EmbeddedGraphWriter } from "./graph-writer.ts";

export const MAX_PAGE_SIZE = 1000;

interface MemoryRow {
  seq: number;
  id: string;
  collection_id: string;
  content: string;
  metadata: string;
  created_at: string;
  updated_at: string;
  graph: string | null;
}

const COLUMNS = "seq, id, collection_id, content, metadata, created_at, updated_at, graph";

function toMemory(row: MemoryRow): Memory {
  return {
    id: row.id,
    collection_id: row.collection_id,
    content: row.content,
    metadata: JSON.parse(row.metadata) as Memory["metadata"],
    created_at: row.created_at,
    updated_at: row.updated_at,
    graph: row.graph === null ? null : (JSON.parse(row.graph) as Memory["graph"]),
  };
}

function metadataJson(metadata: unknown, what: string): string {
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new TypeError(`${what} must be an object`);
  }
  return JSON.stringify(metadata);
}

/**
 * Memories in SQLite. Every write updates the row, its FTS row (triggers), its vec0 row and
 * its scanned embedding in one transaction, so the vector index never lags the source of truth.
 */
export class EmbeddedMemoryStore implements MemoryStore {
  private readonly seqStmt;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly insertVectorStmt;
  private readonly updateVectorStmt;
  private readonly upsertEmbeddingStmt;
  private readonly setModelStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly deleteStmt;
  private readonly hydrateStmt;
  private readonly writeBatch;
  private readonly patchTx;

  constructor(
    db: Database,
    private readonly statements: StatementCache,
    readonly dimensions: number,
  ) {
    this.seqStmt = db.prepare<{ seq: number }, [string, string]>(
      "SELECT seq FROM memories WHERE collection_id = ? AND id = ?",
    );
    this.insertStmt = db.prepare<{ seq: number }, [string, string, string, string, string, string, string | null, string | null]>(
      `INSERT INTO memories (collection_id, id, content, metadata, created_at, updated_at, graph, embedding_model)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
    );
    this.setModelStmt = db.prepare<null, [string | null, number]>("UPDATE memories SET embedding_model = ? WHERE seq = ?");
    this.updateStmt = db.prepare<MemoryRow, [string, string, string, string | null, number]>(
      `UPDATE memories SET content = ?, metadata = ?, updated_at = ?, graph = ? WHERE seq = ? RETURNING ${COLUMNS}`,
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
    this.getStmt = db.prepare<MemoryRow, [string, string]>(
      `SELECT ${COLUMNS} FROM memories WHERE collection_id = ? AND id = ?`,
    );
    this.listStmt = db.prepare<MemoryRow, [string, number, number]>(
      `SELECT ${COLUMNS} FROM memories WHERE collection_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
    this.deleteStmt = db.prepare<null, [string, string]>(
      "DELETE FROM memories WHERE collection_id = ? AND id = ?",
    );
    this.hydrateStmt = db.prepare<MemoryRow, [string, string]>(
      `SELECT ${COLUMNS} FROM memories
       WHERE collection_id = ? AND id IN (SELECT value FROM json_each(?))`,
    );

    this.writeBatch = db.transaction(
      (collectionId: string, rows: { item: MemoryWrite; metadata: string }[], now: string) => {
        for (const { item, metadata } of rows) {
          const existing = this.seqStmt.get(collectionId, item.id);
          const graphJson = item.graph === undefined ? null : JSON.stringify(item.graph);
          if (existing !== null) {
            this.updateStmt.run(item.content, metadata, now, graphJson, existing.seq);
            this.updateVectorStmt.run(item.embedding, existing.seq);
            this.upsertEmbeddingStmt.run(existing.seq, item.embedding);
            this.setModelStmt.run(item.embeddingModel ?? null, existing.seq);
            graph.replace(collectionId, existing.seq, item.graph);
          } else {
            const { seq } = this.insertStmt.get(collectionId, item.id, item.content, metadata, now, now, graphJson, item.embeddingModel ?? null)!;
            this.insertVectorStmt.run(seq, item.embedding, collectionId);
            this.upsertEmbeddingStmt.run(seq, item.embedding);
            graph.replace(collectionId, seq, item.graph);
          }
        }
      },
    );

    this.patchTx = db.transaction(
      (collectionId: string, id: string, patch: MemoryPatch, metadata: string | undefined, now: string): Memory | null => {
        const row = this.getStmt.get(collectionId, id);
        if (row === null) return null;
        const graphJson = patch.graph === undefined ? row.graph : JSON.stringify(patch.graph);
        const updated = this.updateStmt.get(patch.content ?? row.content, metadata ?? row.metadata, now, graphJson, row.seq)!;
        if (patch.graph !== undefined) graph.replace(collectionId, row.seq, patch.graph);
        if (patch.embedding !== undefined) {
          this.updateVectorStmt.run(patch.embedding, row.seq);
          this.upsertEmbeddingStmt.run(row.seq, patch.embedding);
          this.setModelStmt.run(patch.embeddingModel ?? null, row.seq);
        }
        return toMemory(updated);
      },
    );
  }

  async upsert(collectionId: string, items: MemoryWrite[]): Promise<void> {
    if (items.length === 0) return;
    // Validate everything before writing anything; the transaction covers the rest.
    const rows = items.map((item, i) => {
      if (typeof item.id !== "string" || item.id.length === 0) {
        throw new TypeError(`items[${i}].id must be a non-empty string`);
      }
      if (typeof item.content !== "string") throw new TypeError(`items[${i}].content must be a string`);
      assertEmbedding(item.embedding, this.dimensions, `items[${i}].embedding`);
      return { item, metadata: metadataJson(item.metadata, `items[${i}].metadata`) };
    });
    try {
      this.writeBatch.immediate(collectionId, rows, new Date().toISOString());
    } catch (error) {
      if (error instanceof Error && /FOREIGN KEY constraint failed/.test(error.message)) throw new CollectionNotFoundError(collectionId);
      throw error;
    }
  }

  async get(collectionId: string, id: string): Promise<Memory | null> {
    const row = this.getStmt.get(collectionId, id);
    return row === null ? null : toMemory(row);
  }

  async list(collectionId: string, opts: { limit: number; cursor?: string }): Promise<Page<Memory>> {
    const after = opts.cursor === undefined ? 0 : decodeCursor(opts.cursor);
    const limit = Math.max(1, clampCount(opts.limit, MAX_PAGE_SIZE));
    const rows = this.listStmt.all(collectionId, after, limit + 1);
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
    if (patch.embedding !== undefined) assertEmbedding(patch.embedding, this.dimensions);
    if (patch.content === undefined && patch.metadata === undefined && patch.embedding === undefined && patch.graph === undefined) {
      return this.get(collectionId, id);
    }
    const metadata = patch.metadata !== undefined ? metadataJson(patch.metadata, "metadata") : undefined;
    return this.patchTx.immediate(collectionId, id, patch, metadata, new Date().toISOString());
  }

  async delete(collectionId: string, id: string): Promise<boolean> {
    // Triggers remove the FTS, vec0 and embedding rows in the same statement.
    return this.deleteStmt.run(collectionId, id).changes > 0;
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
    const where = compileFilter(filter, "m");
    const statement = this.statements.get<Hit>(
      `SELECT m.id AS id, -bm25(memories_fts) AS score
       FROM memories_fts JOIN memories AS m ON m.seq = memories_fts.rowid
       WHERE memories_fts MATCH ? AND m.collection_id = ? AND ${where.sql}
       ORDER BY score DESC, m.seq
       LIMIT ?`,
    );
    return statement.all(match, collectionId, ...where.params, limit);
  }

  async hydrate(collectionId: string, ids: string[]): Promise<Memory[]> {
    if (ids.length === 0) return [];
    const rows = this.hydrateStmt.all(collectionId, JSON.stringify(ids));
    const byId = new Map(rows.map((row) => [row.id, row]));
    const memories: Memory[] = [];
    for (const id of ids) {
      const row = byId.get(id);
      if (row !== undefined) memories.push(toMemory(row));
    }
    return memories;
  }
}
