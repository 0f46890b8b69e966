import type { Database } from "bun:sqlite";
import { graphMigration, mentionPositionMigration } from "./graph-schema.ts";
import { apiKeysMigration } from "./api-keys.ts";
import { changeLogMigration } from "./change-log.ts";
import { embeddingModelMigration } from "./embedding-model-schema.ts";
import { dedupeMigration } from "./dedupe-schema.ts";
import { webhooksMigration } from "./webhooks.ts";
import { FTS_TOKENIZER, perCollectionKeywordMigration } from "./keyword-index.ts";
import { annMigration } from "./ann-schema.ts";

/**
 * The embedded store's schema, as an ordered list of migrations. Migration `i` (0-based)
 * brings the database from `PRAGMA user_version = i` to `i + 1`; `database.ts` runs the ones a
 * database lacks at open, each in its own immediate transaction, so opening is idempotent and
 * safe when several workers open the same file at once. Append, never edit a released one.
 */
export interface MigrationContext {
  dimensions: number;
}

export type Migration = (db: Database, ctx: MigrationContext) => void;


export const MIGRATIONS: readonly Migration[] = [
  // 1: collections, memories, embeddings, FTS (one table for all: replaced by 9), vec0, cache generations.
  (db, { dimensions }) => {
    db.run(`CREATE TABLE IF NOT EXISTS store_meta (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    )`);
    db.run(`INSERT OR IGNORE INTO store_meta (key, value) VALUES ('dimensions', ?)`, [String(dimensions)]);

    db.run(`CREATE TABLE IF NOT EXISTS collections (
      id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      name TEXT NOT NULL,
      description TEXT,
      created_at TEXT NOT NULL,
      UNIQUE (owner, name)
    )`);

    // seq: insertion order, cursor position and rowid of the FTS and vec0 rows. AUTOINCREMENT so
    // a seq is never reused (a cursor never skips a row written after the last one was deleted).
    db.run(`CREATE TABLE IF NOT EXISTS memories (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
      id TEXT NOT NULL,
      content TEXT NOT NULL,
      metadata TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      UNIQUE (collection_id, id)
    )`);
    db.run(`CREATE INDEX IF NOT EXISTS memories_collection_seq ON memories (collection_id, seq)`);

    // The scanned copy of each embedding (filtered exact search). Kept out of `memories` so
    // metadata scans stay on small rows, and out of vec0 whose per-rowid reads are ~5x slower.
    db.run(`CREATE TABLE IF NOT EXISTS memory_embeddings (
      seq INTEGER PRIMARY KEY,
      embedding BLOB NOT NULL
    )`);

    db.run(`CREATE VIRTUAL TABLE IF NOT EXISTS memory_vectors USING vec0(
      embedding float[${dimensions}] distance_metric=cosine,
      collection_id text partition key
    )`);

    db.run(`CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5(
      content,
      content = 'memories',
      content_rowid = 'seq',
      tokenize = '${FTS_TOKENIZER}'
    )`);

    // Every delete path (memory delete, collection cascade) cleans FTS, vec0 and embeddings.
    db.run(`CREATE TRIGGER IF NOT EXISTS memories_after_insert AFTER INSERT ON memories BEGIN
      INSERT INTO memories_fts (rowid, content) VALUES (new.seq, new.content);
    END`);
    db.run(`CREATE TRIGGER IF NOT EXISTS memories_after_update AFTER UPDATE OF content ON memories
      WHEN old.content IS NOT new.content BEGIN
      INSERT INTO memories_fts (memories_fts, rowid, content) VALUES ('delete', old.seq, old.content);
      INSERT INTO memories_fts (rowid, content) VALUES (new.seq, new.content);
    END`);
    db.run(`CREATE TRIGGER IF NOT EXISTS memories_after_delete AFTER DELETE ON memories BEGIN
      INSERT INTO memories_fts (memories_fts, rowid, content) VALUES ('delete', old.seq, old.content);
      DELETE FROM memory_vectors WHERE rowid = old.seq;
      DELETE FROM memory_embeddings WHERE seq = old.seq;
    END`);

    // Search-cache generations, shared by every process that opens this file.
    db.run(`CREATE TABLE IF NOT EXISTS collection_generations (
      collection_id TEXT PRIMARY KEY,
      generation INTEGER NOT NULL
    ) WITHOUT ROWID`);
  },
  // 2: the knowledge graph (graph-schema.ts).
  graphMigration,
  // 3: API keys (api-keys.ts).
  apiKeysMigration,
  // 4: idempotency keys of writes (idempotency.ts): a claim, then the first answer, per user and key.
  (db) => {
    db.run(`CREATE TABLE IF NOT EXISTS idempotency_keys (
      scope TEXT NOT NULL,
      key TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      token TEXT,
      status INTEGER,
      body TEXT,
      locked_until INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (scope, key)
    )`);
    db.run("CREATE INDEX IF NOT EXISTS idempotency_keys_expiry ON idempotency_keys (expires_at)");
  },
  // 5: the memory change log (history) and memories.expires_at (change-log.ts).
  changeLogMigration,
  // 6: the embedding model of each collection and memory, re-embedding state (embedding-model-schema.ts).
  embeddingModelMigration,
  // 7: each collection's dedupe threshold (dedupe-schema.ts).
  dedupeMigration,
  // 8: webhooks and their delivery log (webhooks.ts).
  webhooksMigration,
  // 9: one keyword (FTS5) index a collection instead of one for all (keyword-index.ts).
  perCollectionKeywordMigration,
  // 10: a mention's position among its memory's entities: the co-occurrence cap (graph-schema.ts).
  mentionPositionMigration,
  // 11: the memory row of each change-log entry and each collection's vectors epoch, for the ANN indexes (ann-schema.ts).
  annMigration,
];
