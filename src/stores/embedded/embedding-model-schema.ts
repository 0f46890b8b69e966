import type { Database } from "bun:sqlite";
import { legacyModelKey } from "../../domain/embedding-model.ts";
import type { Migration } from "./schema.ts";

export function hasColumn(db: Database, table: string, column: string): boolean {
  return (db.query(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
}

/**
 * Embedding models (issue 17; self-contained and idempotent, so it may be renumbered): each
 * collection records the model that embedded it and the state of a re-embedding under way
 * (`bun run reembed`); each memory records the model that made its vector (NULL: written before
 * models were recorded, i.e. by the collection's recorded model). Existing collections get the
 * model that was the default until then, which is what embedded them.
 */
export const embeddingModelMigration: Migration = (db, { dimensions }) => {
  if (!hasColumn(db, "collections", "embedding_model")) {
    const legacy = legacyModelKey(dimensions).replaceAll("'", "''");
    db.run(`ALTER TABLE collections ADD COLUMN embedding_model TEXT NOT NULL DEFAULT '${legacy}'`);
  }
  if (!hasColumn(db, "collections", "reembed_target")) db.run(`ALTER TABLE collections ADD COLUMN reembed_target TEXT`);
  if (!hasColumn(db, "collections", "reembed_checkpoint")) {
    db.run(`ALTER TABLE collections ADD COLUMN reembed_checkpoint INTEGER NOT NULL DEFAULT 0`);
  }
  if (!hasColumn(db, "memories", "embedding_model")) db.run(`ALTER TABLE memories ADD COLUMN embedding_model TEXT`);
};
