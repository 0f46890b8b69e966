import type { Migration } from "./schema.ts";
import { hasColumn } from "./embedding-model-schema.ts";

/**
 * What the ANN indexes (ann/) need to follow SQLite (self-contained and idempotent: renumber
 * freely): each change-log entry names the memory row (`memories.seq`, the index key) it touched,
 * so a delete can be applied after its row is gone; and each collection counts the re-embedding
 * batches written to it (`vectors_epoch`), the one vector change the log does not record.
 */
export const annMigration: Migration = (db) => {
  if (!hasColumn(db, "memory_changes", "memory_seq")) db.run("ALTER TABLE memory_changes ADD COLUMN memory_seq INTEGER");
  if (!hasColumn(db, "collections", "vectors_epoch")) {
    db.run("ALTER TABLE collections ADD COLUMN vectors_epoch INTEGER NOT NULL DEFAULT 0");
  }
};
