import { EmbeddedWebhookStore } from "./webhooks.ts";
import { EmbeddedKeywordIndex } from "./keyword-index.ts";
import type { WebhookStore } from "../../ports/webhook-store.ts";
import type { ApiKeyStore } from "../../ports/api-key-store.ts";
import type { CollectionStore } from "../../ports/collection-store.ts";
import type { GraphStore } from "../../ports/graph-store.ts";
import type { HealthCheck } from "../../ports/health-check.ts";
import type { MemoryStore } from "../../ports/memory-store.ts";
import type { VectorIndex } from "../../ports/vector-index.ts";
import type { ReembedStore } from "../../ports/reembed-store.ts";
import { EmbeddedReembedStore } from "./reembed.ts";
import { EmbeddedGraphStore } from "./graph-store.ts";
import { EmbeddedApiKeyStore } from "./api-keys.ts";
import { EmbeddedSearchCache } from "./cache.ts";
import { EmbeddedCollectionStore } from "./collections.ts";
import { isMemoryPath, type OpenDatabaseOptions, openDatabase, StatementCache } from "./database.ts";
import { EmbeddedHealthCheck } from "./health.ts";
import { EmbeddedMemoryStore } from "./memories.ts";
import { EmbeddedVectorIndex } from "./vector-index.ts";
import { SearchThreads } from "./search-threads.ts";
import { EmbeddedIdempotencyStore } from "./idempotency.ts";
import type { IdempotencyStore } from "../../ports/idempotency-store.ts";
import { EmbeddedTenantUsage } from "./usage.ts";
import type { TenantUsage } from "../../ports/tenant-usage.ts";
import type { MemoryHistoryStore } from "../../ports/memory-history.ts";
import type { ExpiringMemoryStore } from "../../ports/memory-expiry.ts";
import type { Clock } from "../shared/expiry.ts";

import type { ChangeFeed } from "../../ports/change-feed.ts";
import { EmbeddedChangeFeed } from "./change-feed.ts";
import type { Logger } from "../../log.ts";
import { AnnSearcher, type AnnSettings, type AnnStats } from "./ann/searcher.ts";

/** HNSW parameters of the ANN indexes (measured: bench/experiments/embedded-ann.md). */
export const ANN_DEFAULTS = { connectivity: 32, expansionAdd: 128, expansionSearch: 256 } as const;

export interface EmbeddedStoreOptions extends OpenDatabaseOptions {
  /** Bound on the search cache's in-process entries; default 10,000. */
  cacheMaxEntries?: number;
  /** Bound on the search cache's in-process bytes, and on one answer's; defaults in CACHE_DEFAULTS. */
  cacheMaxBytes?: number;
  cacheMaxEntryBytes?: number;
  /** Milliseconds clock of memory timestamps and expiry; default Date.now (tests inject one). */
  now?: Clock;
  /**
   * Threads that run vector and keyword searches on their own read-only connections, off the event loop.
   * Default 0 (searches run on the main connection); ignored for `:memory:`.
   */
  searchThreads?: number;
  /**
   * Semantic search through an ANN (HNSW) index in collections of at least `minRows` memories
   * (EMBEDDED_ANN_MIN_ROWS); absent: exact scans only. `module` names the HNSW library (tests).
   */
  ann?: Pick<AnnSettings, "minRows" | "module"> & Partial<Pick<AnnSettings, "connectivity" | "expansionAdd" | "expansionSearch">>;
  /** Where the stores log (index builds, a library that cannot load); default silent. */
  log?: Logger;
}

export interface EmbeddedStores {
  collections: CollectionStore;
  /** Memories, their change log (history) and the purge of expired ones. */
  memories: MemoryStore & MemoryHistoryStore & ExpiringMemoryStore;
  vectors: VectorIndex;
  /** The knowledge graph, written with the memories in their transactions. */
  graph: GraphStore;
  apiKeys: ApiKeyStore;
  /** Moving collections to another embedding model (`bun run reembed`). */
  reembed: ReembedStore;
  /** In-process values, generations shared through the database file. */
  cache: EmbeddedSearchCache;
  /** The change log read with vectors (the search cache's roll-forward). */
  changeFeed: ChangeFeed;
  health: HealthCheck;
  /** Idempotency keys of writes, in the same file (shared by the workers that open it). */
  idempotency: IdempotencyStore;
  /** Per-tenant totals for quotas. */
  usage: TenantUsage;
  /** Webhooks of collections and their delivery log. */
  webhooks: WebhookStore;
  /** The search threads' counters; undefined when searches run on the main connection. */
  searchThreads(): ReturnType<SearchThreads["stats"]> | undefined;
  /**
   * Opens (loads or builds) the ANN index of every collection big enough and resolves when they
   * are ready, with each searcher's state (one a search thread, or the main connection's); []
   * when ANN is off. Searches meanwhile scan exactly.
   */
  warmAnn(): Promise<AnnStats[]>;
  /** Closes the database; the stores must not be used afterwards. Idempotent. */
  close(): void;
}

/** Opens the SQLite file (migrating it) and builds every embedded store over it. */
export function openEmbeddedStores(options: EmbeddedStoreOptions): EmbeddedStores {
  const db = openDatabase(options);
  const statements = new StatementCache(db);
  const keywords = new EmbeddedKeywordIndex(db, statements);
  const ann: AnnSettings | undefined =
    options.ann === undefined
      ? undefined
      : { ...ANN_DEFAULTS, ...options.ann, dir: isMemoryPath(options.path) ? undefined : `${options.path}.ann` };
  const log = options.log?.child({ component: "embedded-ann" });
  const annLog = (level: "info" | "warn", msg: string, fields?: Record<string, unknown>) => log?.[level](msg, fields);
  const threads =
    (options.searchThreads ?? 0) > 0 && !isMemoryPath(options.path)
      ? new SearchThreads({
          path: options.path,
          threads: options.searchThreads!,
          cacheSizeKiB: options.cacheSizeKiB,
          mmapSizeBytes: options.mmapSizeBytes,
          busyTimeoutMs: options.busyTimeoutMs,
          ann,
          dimensions: options.dimensions,
          log: annLog,
        })
      : undefined;
  const searcher = ann !== undefined && threads === undefined ? new AnnSearcher(db, statements, options.dimensions, ann, annLog) : undefined;
  return {
    collections: new EmbeddedCollectionStore(db, keywords),
    memories: new EmbeddedMemoryStore(db, statements, options.dimensions, keywords, { now: options.now, searchThreads: threads }),
    vectors: new EmbeddedVectorIndex(statements, options.dimensions, threads, searcher),
    graph: new EmbeddedGraphStore(db),
    apiKeys: new EmbeddedApiKeyStore(db),
    reembed: new EmbeddedReembedStore(db, options.dimensions),
    cache: new EmbeddedSearchCache(db, {
      maxEntries: options.cacheMaxEntries ?? 10_000,
      maxBytes: options.cacheMaxBytes,
      maxEntryBytes: options.cacheMaxEntryBytes,
    }),
    changeFeed: new EmbeddedChangeFeed(db, options.now),
    health: new EmbeddedHealthCheck(db),
    idempotency: new EmbeddedIdempotencyStore(db),
    usage: new EmbeddedTenantUsage(db),
    webhooks: new EmbeddedWebhookStore(db, options.now),
    searchThreads: () => threads?.stats(),
    async warmAnn() {
      if (threads?.ann === true) return threads.warm();
      if (searcher === undefined) return [];
      await searcher.warm();
      return [searcher.stats()];
    },
    close() {
      searcher?.close();
      threads?.close();
      statements.clear();
      db.close(true);
    },
  };
}
