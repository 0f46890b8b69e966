import type { Database } from "bun:sqlite";
import type { StatementCache } from "./database.ts";
import type { Migration } from "./schema.ts";

/** The tokenizer of every keyword index: porter stemming over unicode61 with diacritics folded. */
export const FTS_TOKENIZER = "porter unicode61 remove_diacritics 2";

const COLLECTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The FTS5 table of one collection's memories (`null` for an id no collection can have). One
 * table a collection, not one for all: BM25's statistics (document count, average length, how
 * many documents hold a word) are then the collection's own, so a tenant's scores and costs never
 * depend on, nor reveal, another tenant's data.
 */
export function keywordTableOf(collectionId: string): string | null {
  return COLLECTION_ID.test(collectionId) ? `memories_fts_${collectionId.replaceAll("-", "").toLowerCase()}` : null;
}

/**
 * Contentless (the text lives in `memories`) with `contentless_delete`, so a row is removed by
 * its rowid (the memory's `seq`) without its old text.
 */
const createSql = (table: string) =>
  `CREATE VIRTUAL TABLE IF NOT EXISTS ${table} USING fts5(content, content = '', contentless_delete = 1, tokenize = '${FTS_TOKENIZER}')`;

/** Writes of the per-collection keyword indexes; call inside the transaction that changes the memory. */
export class EmbeddedKeywordIndex {
  /** Tables this process knows to exist. */
  private readonly known = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly statements: StatementCache,
  ) {}

  /** Makes the collection's (empty) index; with the collection's creation. */
  create(collectionId: string): void {
    const table = keywordTableOf(collectionId);
    if (table === null) return;
    this.db.run(createSql(table));
    this.known.add(table);
  }

  /** Drops the collection's index; with the collection's deletion. */
  drop(collectionId: string): void {
    const table = keywordTableOf(collectionId);
    if (table === null) return;
    this.db.run(`DROP TABLE IF EXISTS ${table}`);
    this.known.delete(table);
  }

  /** Indexes (or re-indexes) a memory's text. */
  put(collectionId: string, seq: number, content: string): void {
    const table = this.table(collectionId);
    this.statements.get(`INSERT OR REPLACE INTO ${table} (rowid, content) VALUES (?, ?)`).run(seq, content);
  }

  remove(collectionId: string, seq: number): void {
    const table = this.table(collectionId);
    this.statements.get(`DELETE FROM ${table} WHERE rowid = ?`).run(seq);
  }

  private table(collectionId: string): string {
    const table = keywordTableOf(collectionId);
    if (table === null) throw new RangeError(`no keyword index for collection id ${JSON.stringify(collectionId)}`);
    // every collection has one from its creation (or the migration); this covers a collection
    // another process is creating (CREATE … IF NOT EXISTS is idempotent), once per process
    if (!this.known.has(table)) {
      this.db.run(createSql(table));
      this.known.add(table);
    }
    return table;
  }
}

/**
 * From one FTS5 table for every collection (BM25 statistics over all tenants) to one a
 * collection: each collection's memories re-indexed into its own table, the shared table and its
 * triggers dropped (the delete trigger keeps cleaning vectors and embeddings). Self-contained:
 * renumber freely.
 */
export const perCollectionKeywordMigration: Migration = (db) => {
  const collections = db.query<{ id: string }, []>("SELECT id FROM collections").all();
  for (const { id } of collections) {
    const table = keywordTableOf(id);
    if (table === null) continue;
    db.run(createSql(table));
    db.run(`INSERT OR REPLACE INTO ${table} (rowid, content) SELECT seq, content FROM memories WHERE collection_id = ?`, [id]);
  }
  db.run("DROP TRIGGER IF EXISTS memories_after_insert");
  db.run("DROP TRIGGER IF EXISTS memories_after_update");
  db.run("DROP TRIGGER IF EXISTS memories_after_delete");
  db.run(`CREATE TRIGGER memories_after_delete AFTER DELETE ON memories BEGIN
    DELETE FROM memory_vectors WHERE rowid = old.seq;
    DELETE FROM memory_embeddings WHERE seq = old.seq;
  END`);
  db.run("DROP TABLE IF EXISTS memories_fts");
};
