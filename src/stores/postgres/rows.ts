import type { Memory } from "../../domain/memory.ts";

/** SQL for a timestamptz column as the ISO-8601 text JS produces (`Date#toISOString`, UTC, ms). */
export function isoSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** Now, at the millisecond resolution every stored timestamp has (so ISO strings round-trip). */
export const NOW_MS = "date_trunc('milliseconds', now())";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids that cannot be a collection's (not a uuid) are answered without a query (which would fail on the cast). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export const COLLECTION_COLUMNS = `id::text AS id, owner, name, description, ${isoSql("created_at")} AS created_at,
  embedding_model, reembed_target, dedupe_threshold::float8 AS dedupe_threshold`;

/** Memory columns (no embedding, no tsv) of the table aliased `m`. */
export const MEMORY_COLUMNS = `m.seq::text AS seq, m.id, m.collection_id::text AS collection_id, m.content, m.metadata,
  ${isoSql("m.created_at")} AS created_at, ${isoSql("m.updated_at")} AS updated_at, m.graph,
  ${isoSql("m.expires_at")} AS expires_at`;

export interface MemoryRow {
  seq: string;
  id: string;
  collection_id: string;
  content: string;
  metadata: Memory["metadata"];
  created_at: string;
  updated_at: string;
  graph: Memory["graph"];
  expires_at: string | null;
}

export function toMemory(row: MemoryRow): Memory {
  return {
    id: row.id,
    collection_id: row.collection_id,
    content: row.content,
    metadata: row.metadata,
    created_at: row.created_at,
    updated_at: row.updated_at,
    graph: row.graph ?? null,
    expires_at: row.expires_at ?? null,
  };
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000. Content or metadata with it is refused with a
 * RangeError naming the field, before anything is written.
 */
export function assertNoNul(value: string, what: string): void {
  if (value.includes("\u0000")) throw new RangeError(`${what} contains a NUL character (U+0000), which cannot be stored`);
}
