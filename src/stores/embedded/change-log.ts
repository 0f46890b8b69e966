import type { Database } from "bun:sqlite";
import type { ChangeOp, MemoryChange, MemoryState } from "../../domain/memory-change.ts";
import type { Page } from "../../domain/memory.ts";
import { clampCount } from "../shared/checks.ts";
import { changeFromRow, type ChangeRowOf } from "../shared/change-row.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { pageOfRows } from "../shared/page.ts";
import type { Migration } from "./schema.ts";

/**
 * The change-log migration (self-contained: renumber freely). Each collection's log has its own
 * sequence, kept in `memory_change_heads` and advanced inside the writing transaction; SQLite
 * runs one write transaction at a time, so seq order is commit order. `memories.expires_at`
 * (ISO-8601 text, which sorts like the instant it names) comes with it.
 */
export const changeLogMigration: Migration = (db) => {
  db.run(`CREATE TABLE IF NOT EXISTS memory_change_heads (
    collection_id TEXT PRIMARY KEY REFERENCES collections (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL
  ) WITHOUT ROWID`);
  db.run(`CREATE TABLE IF NOT EXISTS memory_changes (
    collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    memory_id TEXT NOT NULL,
    op TEXT NOT NULL,
    at TEXT NOT NULL,
    by TEXT,
    old_content TEXT,
    old_metadata TEXT,
    old_expires_at TEXT,
    new_content TEXT,
    new_metadata TEXT,
    new_expires_at TEXT,
    PRIMARY KEY (collection_id, seq)
  ) WITHOUT ROWID`);
  db.run(`CREATE INDEX IF NOT EXISTS memory_changes_memory ON memory_changes (collection_id, memory_id, seq)`);
  db.run(`CREATE INDEX IF NOT EXISTS memory_changes_at ON memory_changes (at)`);
  const columns = db.query("PRAGMA table_info(memories)").all() as { name: string }[];
  if (!columns.some((c) => c.name === "expires_at")) db.run(`ALTER TABLE memories ADD COLUMN expires_at TEXT`);
  db.run(`CREATE INDEX IF NOT EXISTS memories_expires_at ON memories (expires_at) WHERE expires_at IS NOT NULL`);
};

/** A memory's state as stored (metadata as JSON text). */
export interface StoredState {
  content: string;
  metadata: string;
  expires_at: string | null;
}

type ChangeRow = ChangeRowOf<string> & { seq: number };

const CHANGE_COLUMNS =
  "seq, memory_id, op, at, by, old_content, old_metadata, old_expires_at, new_content, new_metadata, new_expires_at";

const toChange = (row: ChangeRow): MemoryChange => changeFromRow(row, (json) => JSON.parse(json) as MemoryState["metadata"]);

/** Writes (inside the caller's transaction) and reads the change log. */
export class EmbeddedChangeLog {
  private readonly nextSeqStmt;
  private readonly insertStmt;
  private readonly historyStmt;
  private readonly sinceStmt;
  private readonly pruneStmt;

  constructor(db: Database) {
    this.nextSeqStmt = db.prepare<{ seq: number }, [string]>(
      `INSERT INTO memory_change_heads (collection_id, seq) VALUES (?, 1)
       ON CONFLICT (collection_id) DO UPDATE SET seq = seq + 1 RETURNING seq`,
    );
    this.insertStmt = db.prepare<
      null,
      [string, number, string, number, string, string, string | null, string | null, string | null, string | null, string | null, string | null, string | null]
    >(
      `INSERT INTO memory_changes (collection_id, seq, memory_id, memory_seq, op, at, by,
         old_content, old_metadata, old_expires_at, new_content, new_metadata, new_expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.historyStmt = db.prepare<ChangeRow, [string, string, number, number]>(
      `SELECT ${CHANGE_COLUMNS} FROM memory_changes
       WHERE collection_id = ? AND memory_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
    this.sinceStmt = db.prepare<ChangeRow, [string, number, number]>(
      `SELECT ${CHANGE_COLUMNS} FROM memory_changes WHERE collection_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
    this.pruneStmt = db.prepare<null, [string, number]>(
      // an entry an enabled webhook has yet to deliver is kept past the retention
      `DELETE FROM memory_changes WHERE (collection_id, seq) IN (
         SELECT c.collection_id, c.seq FROM memory_changes c WHERE c.at < ?
           AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.collection_id = c.collection_id AND w.enabled = 1 AND w.delivered_seq < c.seq)
         LIMIT ?)`,
    );
  }

  /** Appends one entry (`memorySeq`: the row it touched); call inside the transaction that makes the change. */
  record(
    collectionId: string,
    memoryId: string,
    memorySeq: number,
    op: ChangeOp,
    at: string,
    by: string | null,
    old: StoredState | null,
    next: StoredState | null,
  ): void {
    const { seq } = this.nextSeqStmt.get(collectionId)!;
    this.insertStmt.run(
      collectionId,
      seq,
      memoryId,
      memorySeq,
      op,
      at,
      by,
      old?.content ?? null,
      old?.metadata ?? null,
      old?.expires_at ?? null,
      next?.content ?? null,
      next?.metadata ?? null,
      next?.expires_at ?? null,
    );
  }

  history(collectionId: string, memoryId: string, opts: { limit: number; cursor?: string }, maxPage: number): Page<MemoryChange> {
    const after = opts.cursor === undefined ? 0 : decodeCursor(opts.cursor);
    const limit = Math.max(1, clampCount(opts.limit, maxPage));
    const rows = this.historyStmt.all(collectionId, memoryId, after, limit + 1);
    return pageOfRows(rows, limit, toChange, encodeCursor);
  }

  since(collectionId: string, afterSeq: number, limit: number): MemoryChange[] {
    return this.sinceStmt.all(collectionId, Math.max(0, Math.trunc(afterSeq)), Math.max(0, clampCount(limit, 10_000))).map(toChange);
  }

  prune(before: string, limit: number): number {
    return this.pruneStmt.run(before, Math.max(0, clampCount(limit, 1_000_000))).changes;
  }
}
