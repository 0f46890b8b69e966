import type { Migration } from "./schema.ts";

/**
 * Near-duplicates on ingest (issue 19; self-contained and idempotent, so it may be renumbered):
 * each collection's dedupe threshold, NULL for the server's default.
 */
export const dedupeMigration: Migration = (db) => {
  const columns = db.query("PRAGMA table_info(collections)").all() as { name: string }[];
  if (!columns.some((c) => c.name === "dedupe_threshold")) db.run("ALTER TABLE collections ADD COLUMN dedupe_threshold REAL");
};
