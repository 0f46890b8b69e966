import type { Logger } from "../../log.ts";
import type { PgPool } from "./pool.ts";
import { CHANGE_LOG_MIGRATION } from "./change-log.ts";
import { EMBEDDING_MODEL_MIGRATION } from "./embedding-model-schema.ts";
import { WEBHOOKS_MIGRATION } from "./webhooks.ts";
import { KEYWORD_INDEX_MIGRATION } from "./keyword-index.ts";
import { FRESH_TAIL_MIGRATION } from "./fresh-tail.ts";
import { DEAD_LETTER_MIGRATION } from "./outbox.ts";
import { SETTLING_MIGRATION } from "./settling.ts";
import { CACHE_GENERATIONS_MIGRATION } from "./cache-generations.ts";

/**
 * The Postgres adapter's schema as an ordered list of migrations; version `i + 1` is
 * `MIGRATIONS[i]`. Append, never edit a released one. `migrate` applies the missing ones at
 * start-up under a session advisory lock, each in its own transaction with its version row,
 * so several workers starting at once are safe and a second run is a no-op.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: collections, memories (with generated tsvector), outbox.
  `
  CREATE TABLE collections (
    id uuid PRIMARY KEY,
    -- creation order (created_at ties at millisecond resolution)
    seq bigint GENERATED ALWAYS AS IDENTITY,
    owner text NOT NULL,
    name text NOT NULL,
    description text,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    CONSTRAINT collections_owner_name_key UNIQUE (owner, name)
  );
  CREATE INDEX collections_owner_seq ON collections (owner, seq);

  CREATE TABLE memories (
    seq bigserial NOT NULL UNIQUE,
    collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    id text NOT NULL,
    content text NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Float32 little-endian; read only by the outbox, kept out of line so scans stay small
    embedding bytea NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (collection_id, id)
  );
  ALTER TABLE memories ALTER COLUMN embedding SET STORAGE EXTERNAL;
  CREATE INDEX memories_tsv ON memories USING gin (tsv);
  CREATE INDEX memories_metadata ON memories USING gin (metadata jsonb_path_ops);
  CREATE INDEX memories_collection_seq ON memories (collection_id, seq);
  CREATE INDEX memories_collection_created ON memories (collection_id, created_at);

  -- One row per (write, derived index); no foreign key: a collection's deletion must survive it.
  CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    target text NOT NULL,
    op text NOT NULL CHECK (op IN ('upsert', 'delete', 'delete_collection')),
    collection_id uuid NOT NULL,
    memory_id text,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX outbox_due ON outbox (target, next_attempt_at, id);
  `,
  // 2: each memory's knowledge-graph facts (client-supplied + extracted at write time), which
  // the outbox delivers to Neo4j.
  `ALTER TABLE memories ADD COLUMN graph jsonb;`,
  // 3: API keys (only the SHA-256 of each secret); api-keys.ts.
  `
  CREATE TABLE api_keys (
    id text PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    owner text NOT NULL,
    name text NOT NULL,
    tier text NOT NULL,
    scopes text[] NOT NULL,
    collections text[],
    secret_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
    last_used_at timestamptz,
    expires_at timestamptz
  );
  CREATE INDEX api_keys_owner_seq ON api_keys (owner, seq);
  `,
  // 4: idempotency keys of writes (idempotency.ts): a claim, then the first answer, per user and key.
  `CREATE TABLE idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    token uuid,
    status integer,
    body text,
    locked_until timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
  );
  CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);`,
  // 5: the memory change log (history) and memories.expires_at; change-log.ts.
  CHANGE_LOG_MIGRATION,
  // 6: the embedding model of each collection and memory, re-embedding state (embedding-model-schema.ts).
  EMBEDDING_MODEL_MIGRATION,
  // 7: each collection's dedupe threshold, NULL for the server's default (issue 19; idempotent,
  // so it may be renumbered).
  `ALTER TABLE collections ADD COLUMN IF NOT EXISTS dedupe_threshold double precision;`,
  // 8: webhooks and their delivery log (webhooks.ts).
  WEBHOOKS_MIGRATION,
  // 9: BM25 keyword index (statistics, terms, impact-ordered postings) kept by triggers; keyword-index.ts.
  KEYWORD_INDEX_MIGRATION,
  // 10: the outbox's pending rows by target and collection, read by every search (fresh-tail.ts).
  FRESH_TAIL_MIGRATION,
  // 11: dead letters of the outbox (a row whose own delivery kept failing is set aside; outbox.ts).
  DEAD_LETTER_MIGRATION,
  // 12: delivered memories a replicated index may still miss, kept in the fresh tail (settling.ts).
  SETTLING_MIGRATION,
  // 13: search-cache generations kept durably, so Redis's copy can be re-seeded (cache-generations.ts).
  CACHE_GENERATIONS_MIGRATION,
];

/** A stable advisory-lock key per schema: workers migrating other schemas do not wait. */
const LOCK_SQL = `SELECT pg_advisory_lock(hashtextextended('memory-api:migrate:' || $1, 0))`;
const UNLOCK_SQL = `SELECT pg_advisory_unlock(hashtextextended('memory-api:migrate:' || $1, 0))`;

/** Brings the pool's schema to the latest version; returns the versions it applied. */
export async function migrate(pool: PgPool, log: Logger): Promise<number[]> {
  const schema = pool.schema;
  return pool.withClient(async (client) => {
    // A session lock, held across the per-migration transactions below.
    await client.query(LOCK_SQL, [schema]);
    try {
      // Only when missing: CREATE SCHEMA needs CREATE on the database, which a least-privilege
      // role that owns just its schema lacks.
      const exists = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
      if (exists.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations");
      const done = new Set(rows.map((r) => r.version));
      const newest = Math.max(0, ...done);
      if (newest > MIGRATIONS.length) {
        throw new Error(
          `the database schema "${schema}" is version ${newest}, newer than this build knows (${MIGRATIONS.length})`,
        );
      }
      const applied: number[] = [];
      for (let version = 1; version <= MIGRATIONS.length; version++) {
        if (done.has(version)) continue;
        await client.query("BEGIN");
        try {
          await client.query(MIGRATIONS[version - 1]!);
          await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [version]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK").catch(() => {});
          throw error;
        }
        applied.push(version);
        log.info("postgres migration applied", { schema, version });
      }
      return applied;
    } finally {
      await client.query(UNLOCK_SQL, [schema]).catch(() => {});
    }
  });
}
