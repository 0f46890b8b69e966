import type pg from "pg";
import type { ChangeOp, MemoryChange, MemoryState } from "../../domain/memory-change.ts";
import { isoSql, NOW_MS } from "./rows.ts";
import type { PgPool } from "./pool.ts";
import { isForeignKeyViolation, isRetryable } from "./errors.ts";
import { CollectionNotFoundError } from "../../domain/errors.ts";
import { changeFromRow, type ChangeRowOf } from "../shared/change-row.ts";

/**
 * The change-log migration (self-contained: renumber freely when merging).
 *
 * Each collection's log has its own gap-free sequence, held in `memory_change_heads`. Every
 * write locks its collection's head row FIRST (before touching any memory row), reads the old
 * state, writes, appends its entries numbered from the head and advances it, all in one
 * transaction. Writers of one collection thus commit one after the other, so seq order is
 * commit order: a reader that has seen seq N has seen every change up to N (what a fresh
 * tail, a cache generation or a webhook cursor needs; a global bigserial would not give that,
 * since sequence values are taken before commit).
 */
export const CHANGE_LOG_MIGRATION = `
  ALTER TABLE memories ADD COLUMN IF NOT EXISTS expires_at timestamptz;
  CREATE INDEX IF NOT EXISTS memories_expires_at ON memories (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE IF NOT EXISTS memory_change_heads (
    collection_id uuid PRIMARY KEY REFERENCES collections (id) ON DELETE CASCADE,
    seq bigint NOT NULL
  );

  CREATE TABLE IF NOT EXISTS memory_changes (
    collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    seq bigint NOT NULL,
    memory_id text NOT NULL,
    op text NOT NULL CHECK (op IN ('create', 'replace', 'patch', 'delete', 'expire')),
    at timestamptz NOT NULL,
    by text,
    old_content text,
    old_metadata jsonb,
    old_expires_at timestamptz,
    new_content text,
    new_metadata jsonb,
    new_expires_at timestamptz,
    PRIMARY KEY (collection_id, seq)
  );
  CREATE INDEX IF NOT EXISTS memory_changes_memory ON memory_changes (collection_id, memory_id, seq);
  CREATE INDEX IF NOT EXISTS memory_changes_at ON memory_changes (at);
`;

/** A memory's state as the log stores it: metadata as JSON text (kept exact, never re-parsed). */
export interface LoggedState {
  content: string;
  metadata: string;
  expires_at: string | null;
}

export interface PendingChange {
  memoryId: string;
  op: ChangeOp;
  by: string | null;
  old: LoggedState | null;
  new: LoggedState | null;
}

const LOCK_HEAD = `INSERT INTO memory_change_heads AS h (collection_id, seq) VALUES ($1, 0)
  ON CONFLICT (collection_id) DO UPDATE SET seq = h.seq RETURNING seq::text AS seq`;

const APPEND = `WITH advanced AS (
    UPDATE memory_change_heads SET seq = $2::bigint + $3::bigint WHERE collection_id = $1
  )
  INSERT INTO memory_changes (collection_id, seq, memory_id, op, at, by,
    old_content, old_metadata, old_expires_at, new_content, new_metadata, new_expires_at)
  SELECT $1, $2::bigint + c.ord, c.memory_id, c.op, ${NOW_MS}, c.by,
    c.old_content, c.old_metadata::jsonb, c.old_expires_at::timestamptz,
    c.new_content, c.new_metadata::jsonb, c.new_expires_at::timestamptz
  FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
    WITH ORDINALITY AS c(memory_id, op, by, old_content, old_metadata, old_expires_at, new_content, new_metadata, new_expires_at, ord)`;

/** One write of a collection, inside its transaction, holding the collection's head. */
export interface ChangeWriter {
  client: pg.PoolClient;
  /** Queues entries; they are appended, in this order, when the callback returns. */
  record(change: PendingChange): void;
}

const MAX_ATTEMPTS = 3;

/**
 * Runs `fn` in a transaction that holds the collection's log head, then appends what it
 * recorded. A collection that does not exist is a CollectionNotFoundError. A deadlock (a
 * concurrent collection delete) re-runs the whole transaction.
 */
export async function withChangeLog<T>(
  pool: PgPool,
  collectionId: string,
  fn: (writer: ChangeWriter) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pool.transaction(async (client) => {
        const head = await client.query<{ seq: string }>({ name: "changes.lock_head", text: LOCK_HEAD }, [collectionId]);
        const pending: PendingChange[] = [];
        const result = await fn({ client, record: (change) => void pending.push(change) });
        if (pending.length > 0) {
          const column = (pick: (c: PendingChange) => string | null) => pending.map(pick);
          await client.query({ name: "changes.append", text: APPEND }, [
            collectionId,
            head.rows[0]!.seq,
            pending.length,
            column((c) => c.memoryId),
            column((c) => c.op),
            column((c) => c.by),
            column((c) => c.old?.content ?? null),
            column((c) => c.old?.metadata ?? null),
            column((c) => c.old?.expires_at ?? null),
            column((c) => c.new?.content ?? null),
            column((c) => c.new?.metadata ?? null),
            column((c) => c.new?.expires_at ?? null),
          ]);
        }
        return result;
      });
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new CollectionNotFoundError(collectionId);
      if (attempt < MAX_ATTEMPTS && isRetryable(error)) continue;
      throw error;
    }
  }
}

type ChangeRow = ChangeRowOf<MemoryState["metadata"]> & { seq: string };

export const CHANGE_COLUMNS = `c.seq::text AS seq, c.memory_id, c.op, ${isoSql("c.at")} AS at, c.by,
  c.old_content, c.old_metadata, ${isoSql("c.old_expires_at")} AS old_expires_at,
  c.new_content, c.new_metadata, ${isoSql("c.new_expires_at")} AS new_expires_at`;

export const toChange = (row: ChangeRow): MemoryChange => changeFromRow(row, (metadata) => metadata);

export type { ChangeRow };
