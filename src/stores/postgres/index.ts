import { PostgresTenantUsage } from "./usage.ts";
import type { TenantUsage } from "../../ports/tenant-usage.ts";
import type { Logger } from "../../log.ts";
import type { ApiKeyStore } from "../../ports/api-key-store.ts";
import type { CollectionStore } from "../../ports/collection-store.ts";
import type { HealthCheck } from "../../ports/health-check.ts";
import type { IndexWriter } from "../../ports/index-writer.ts";
import type { MemoryStore } from "../../ports/memory-store.ts";
import { PostgresApiKeyStore } from "./api-keys.ts";
import { PostgresCollectionStore } from "./collections.ts";
import { PostgresHealthCheck } from "./health.ts";
import { PostgresMemoryStore } from "./memories.ts";
import { migrate } from "./migrations.ts";
import { Outbox, type OutboxOptions } from "./outbox.ts";
import { PostgresFreshTail } from "./fresh-tail.ts";
import type { PendingWrites } from "../../ports/pending-writes.ts";
import type { FreshTail } from "../../ports/fresh-tail.ts";
import { PgPool } from "./pool.ts";
import { PostgresIdempotencyStore } from "./idempotency.ts";
import type { IdempotencyStore } from "../../ports/idempotency-store.ts";
import type { MemoryHistoryStore } from "../../ports/memory-history.ts";
import type { ExpiringMemoryStore } from "../../ports/memory-expiry.ts";
import type { Clock } from "../shared/expiry.ts";
import type { ReembedStore } from "../../ports/reembed-store.ts";
import { PostgresReembedStore } from "./reembed.ts";
import { PostgresWebhookStore } from "./webhooks.ts";
import type { WebhookStore } from "../../ports/webhook-store.ts";
import type { ChangeFeed } from "../../ports/change-feed.ts";
import { PostgresChangeFeed } from "./change-feed.ts";
import { PostgresGenerationLedger } from "./cache-generations.ts";
import type { GenerationLedger } from "../../ports/generation-ledger.ts";
import { type ReadCount, ReplicaReads } from "./replica-reads.ts";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (config: DATABASE_URL). */
  url: string;
  /** Most connections of this process (config: PG_POOL_SIZE; default 50). */
  poolSize?: number;
  log: Logger;
  /** The derived indexes (Milvus, Neo4j) fed through the outbox; names must be unique and stable. */
  writers: IndexWriter[];
  /** Bound on a write's wait for its immediate index delivery (default 2000 ms). */
  deliveryTimeoutMs?: number;
  /** Embedding length every write must have (the embedder's); unchecked across batches when unset. */
  dimensions?: number;
  /** Schema of every table (default `public`); created if missing. Tests use their own. */
  schema?: string;
  /** Server-side bound on each statement (default 30 s). */
  statementTimeoutMs?: number;
  /** Bound on acquiring a connection (default 2000 ms): a dead database fails fast with a 503. */
  connectionTimeoutMs?: number;
  /** Dispatcher tuning (batch size, poll interval, backoff; `dispatch: false` = no polling loop). */
  outbox?: Omit<OutboxOptions, "deliveryTimeoutMs">;
  /** Milliseconds clock that memory expiry is judged by; default Date.now (tests inject one). */
  now?: Clock;
  /** Documents keyword search reads a query word, best first (0 = all: exact BM25); default 1000. */
  keywordTermDocs?: number;
  /** Hot standbys for the reads that tolerate lag (config: DATABASE_REPLICA_URLS); none by default. */
  replicaUrls?: string[];
  /** Most connections of this process to each replica (config: PG_REPLICA_POOL_SIZE; default 10). */
  replicaPoolSize?: number;
  /** Bound on connecting to a replica (default 1000 ms); past it the read runs on the primary. */
  replicaConnectionTimeoutMs?: number;
  /** How long a failed replica is left alone (default 5000 ms). */
  replicaRestMs?: number;
}

export interface PostgresStores {
  collections: CollectionStore;
  /** Per-tenant totals for quotas. */
  usage: TenantUsage;
  /** Memories, their change log (history) and the purge of expired ones. */
  memories: MemoryStore & MemoryHistoryStore & ExpiringMemoryStore;
  apiKeys: ApiKeyStore;
  /** Moving collections to another embedding model (`bun run reembed`); queues upserts for every writer. */
  reembed: ReembedStore;
  health: HealthCheck;
  /** Idempotency keys of writes, next to the writes they protect. */
  idempotency: IdempotencyStore;
  /** Webhooks of collections and their delivery log. */
  webhooks: WebhookStore;
  /**
   * The memories an outbox target has not confirmed yet, for a search to merge (a fresh tail);
   * at most `maxRows` a read (default 2000).
   */
  freshTail(target: string, maxRows?: number): FreshTail;
  /** A deferred target's undelivered writes of a collection, delivered on demand (a graph read's barrier). */
  pendingWrites(target: string): PendingWrites;
  /** The change log read with vectors (the search cache's roll-forward). */
  changeFeed: ChangeFeed;
  /** Search-cache generations, durable: what Redis's copy is checked against and re-seeded from. */
  cacheGenerations: GenerationLedger;
  /**
   * backlog() and deadLetters() for metrics, replay() to queue dead letters again, kick() to
   * dispatch now, round(target) for one delivery round, drain(timeoutMs) for tests and shutdown.
   */
  outbox: Pick<Outbox, "backlog" | "deadLetters" | "replay" | "reindex" | "kick" | "round" | "drain" | "targets">;
  /** Reads of list, keyword search and hydrate so far, by where they ran and why (metrics). */
  readStats(): ReadCount[];
  /** Opens up to `n` connections (default: the pool size) before traffic; returns how many are open. */
  warm(n?: number): Promise<number>;
  /** The pool right now (metrics): connections open, idle, callers waiting, and the most it opens. */
  poolStats(): { total: number; idle: number; waiting: number; max: number };
  /** Stops the dispatcher, waits for deliveries under way, closes the pool. Idempotent. */
  close(): Promise<void>;
}

/**
 * Connects, migrates (idempotent, advisory-locked: safe with several workers starting at
 * once) and builds the Postgres stores. Throws DependencyUnavailableError("postgres") when the
 * database cannot be reached (within the connection timeout, not a hang).
 */
export async function openPostgresStores(options: PostgresStoreOptions): Promise<PostgresStores> {
  const log = options.log.child({ component: "postgres" });
  const names = options.writers.map((w) => w.name);
  if (new Set(names).size !== names.length) throw new Error(`index writer names must be unique, got ${names.join(", ")}`);
  const pool = new PgPool({
    url: options.url,
    log,
    ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
    ...(options.schema !== undefined ? { schema: options.schema } : {}),
    ...(options.statementTimeoutMs !== undefined ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
    ...(options.connectionTimeoutMs !== undefined ? { connectionTimeoutMs: options.connectionTimeoutMs } : {}),
  });
  const reads = new ReplicaReads(
    pool,
    (options.replicaUrls ?? []).map((url) => ({
      url,
      pool: new PgPool({
        url,
        log: log.child({ component: "postgres-replica" }),
        poolSize: options.replicaPoolSize ?? 10,
        connectionTimeoutMs: options.replicaConnectionTimeoutMs ?? 1000,
        ...(options.schema !== undefined ? { schema: options.schema } : {}),
        ...(options.statementTimeoutMs !== undefined ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
      }),
    })),
    log,
    options.replicaRestMs !== undefined ? { restMs: options.replicaRestMs } : {},
  );
  try {
    await migrate(pool, log);
  } catch (error) {
    await Promise.all([pool.close(), reads.close()]).catch(() => {});
    throw error;
  }
  const outbox = new Outbox(pool, options.writers, log.child({ component: "outbox" }), {
    ...options.outbox,
    ...(options.deliveryTimeoutMs !== undefined ? { deliveryTimeoutMs: options.deliveryTimeoutMs } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    collections: new PostgresCollectionStore(pool, outbox),
    memories: new PostgresMemoryStore(pool, outbox, options.dimensions, { now: options.now, keywordTermDocs: options.keywordTermDocs, reads }),
    apiKeys: new PostgresApiKeyStore(pool),
    reembed: new PostgresReembedStore(pool, outbox, options.dimensions),
    health: new PostgresHealthCheck(pool),
    idempotency: new PostgresIdempotencyStore(pool),
    webhooks: new PostgresWebhookStore(pool),
    usage: new PostgresTenantUsage(pool),
    outbox,
    freshTail(target, maxRows = 2000) {
      if (!outbox.targets.includes(target)) throw new Error(`no index writer is named "${target}"`);
      return new PostgresFreshTail(pool, target, maxRows, options.now ?? Date.now);
    },
    pendingWrites(target) {
      if (!outbox.targets.includes(target)) throw new Error(`no index writer is named "${target}"`);
      return { deliver: (collectionId) => outbox.deliverPending(target, collectionId) };
    },
    changeFeed: new PostgresChangeFeed(pool, options.now ?? Date.now),
    cacheGenerations: new PostgresGenerationLedger(pool),
    warm: (n) => pool.warm(n),
    poolStats: () => ({ ...pool.stats(), max: pool.size }),
    readStats: () => reads.stats(),
    close() {
      closing ??= (async () => {
        await outbox.close();
        await Promise.all([pool.close(), reads.close()]);
      })();
      return closing;
    },
  };
}
