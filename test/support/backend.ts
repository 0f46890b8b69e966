/**
 * The stores behind a test app: the embedded SQLite ones, or (TEST_BACKEND=production) the real
 * PostgreSQL (a schema of its own per app), Milvus, Neo4j and Redis, exactly as production
 * composes them. The API suites run unchanged on either.
 */
import type { ApiKeyStore } from "../../src/ports/api-key-store";
import type { CollectionStore } from "../../src/ports/collection-store";
import type { Embedder } from "../../src/ports/embedder";
import type { HealthCheck } from "../../src/ports/health-check";
import type { MemoryStore } from "../../src/ports/memory-store";
import type { SearchCache } from "../../src/ports/search-cache";
import type { VectorIndex } from "../../src/ports/vector-index";
import type { ReembedStore } from "../../src/ports/reembed-store";
import { silentLogger } from "../../src/log";
import { type EmbeddedStores, openEmbeddedStores } from "../../src/stores/embedded";
import { MemorySearchCache } from "../../src/stores/in-process/cache";
import { TieredSearchCache } from "../../src/stores/in-process/tiered-cache";
import { InProcessPopularity } from "../../src/stores/in-process/popularity";
import { RedisPopularity } from "../../src/stores/redis/popularity";
import type { GraphStore } from "../../src/ports/graph-store";
import type { SearchPopularity } from "../../src/ports/search-popularity";
import type { IdempotencyStore } from "../../src/ports/idempotency-store";
import type { TenantUsage } from "../../src/ports/tenant-usage";
import { productionConfig } from "./services";
import { waitFor } from "../../src/runtime/retry";
import { FreshTailVectorIndex } from "../../src/search/fresh-tail-index";
import type { MemoryHistoryStore } from "../../src/ports/memory-history";
import type { ExpiringMemoryStore } from "../../src/ports/memory-expiry";
import type { Clock } from "../../src/stores/shared/expiry";
import type { WebhookStore } from "../../src/ports/webhook-store";
import type { ChangeFeed } from "../../src/ports/change-feed";

export interface Backend {
  name: "embedded" | "production";
  collections: CollectionStore;
  memories: MemoryStore;
  /** The memories' change log. */
  history: MemoryHistoryStore;
  /** The change log read with vectors (cache roll-forward). */
  changeFeed: ChangeFeed;
  /** The purge of expired memories (what the sweeper calls). */
  expiry: ExpiringMemoryStore;
  vectors: VectorIndex;
  apiKeys: ApiKeyStore;
  /** Re-embedding (`bun run reembed`) over the same stores. */
  reembed: ReembedStore;
  /** The knowledge graph: SQLite tables, or Neo4j fed by the outbox. */
  graph: GraphStore;
  cache: SearchCache;
  /** Popularity counters as the mode's runtime makes them (apps use them only when a test asks). */
  popularity: SearchPopularity;
  /** Idempotency keys as the mode's runtime makes them (SQLite table, PostgreSQL table). */
  idempotency: IdempotencyStore;
  health: HealthCheck[];
  /** Per-tenant totals (quotas). */
  usage: TenantUsage;
  /** Webhooks and their delivery log. */
  webhooks: WebhookStore;
  /** Waits until every outbox row is delivered (production); nothing to wait for in embedded. */
  settle(timeoutMs?: number): Promise<void>;
  /** Undelivered outbox rows per derived index. */
  backlog(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export const backendName = (): Backend["name"] =>
  process.env.TEST_BACKEND === "production" ? "production" : "embedded";

/** A Backend over opened embedded stores (a test that opens a data folder itself uses this too). */
export function embeddedBackend(stores: EmbeddedStores, cache: SearchCache = stores.cache): Backend {
  return {
    name: "embedded",
    collections: stores.collections,
    memories: stores.memories,
    history: stores.memories,
    changeFeed: stores.changeFeed,
    expiry: stores.memories,
    vectors: stores.vectors,
    apiKeys: stores.apiKeys,
    reembed: stores.reembed,
    graph: stores.graph,
    cache,
    popularity: new InProcessPopularity({ halfLifeMs: 600_000 }),
    idempotency: stores.idempotency,
    health: [stores.health],
    usage: stores.usage,
    webhooks: stores.webhooks,
    settle: async () => {},
    backlog: async () => ({}),
    close: async () => stores.close(),
  };
}

/** `now`: the clock memory expiry is judged by (default Date.now). */
export async function openBackend(embedder: Embedder, opts: { now?: Clock } = {}): Promise<Backend> {
  if (backendName() === "embedded") {
    const stores = openEmbeddedStores({ path: ":memory:", dimensions: embedder.dimensions, now: opts.now });
    return embeddedBackend(stores, new MemorySearchCache({ maxEntries: 1000 }));
  }
  const [{ openPostgresStores }, { openMilvusIndex }, { openNeo4jGraph }, { openRedisCache }, { outboxPlan, plannedGraph }] = await Promise.all([
    import("../../src/stores/postgres"),
    import("../../src/stores/milvus"),
    import("../../src/stores/neo4j"),
    import("../../src/stores/redis"),
    import("../../src/runtime/outbox-plan"),
  ]);
  const log = silentLogger;
  // like production: retried while a service that just restarted is still warming up
  const milvus = await waitFor(
    "milvus",
    async () => {
      const index = await openMilvusIndex({
        address: productionConfig.milvusAddress,
        collection: "memories_api_tests",
        dimensions: embedder.dimensions,
        replicas: productionConfig.milvusReplicas,
        log,
      });
      await index.warm().catch(async (error) => {
        await index.close();
        throw error;
      });
      return index;
    },
    log,
    120_000,
  );
  const neo4j = await waitFor("neo4j", () => openNeo4jGraph({ uri: productionConfig.neo4jUri, log }), log, 60_000);
  const redis = await openRedisCache({ redis: productionConfig.redis, log });
  const schema = `api_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const postgres = await openPostgresStores({
    url: productionConfig.databaseUrl,
    poolSize: 8,
    // reads that tolerate lag go to the replicas of DATABASE_REPLICA_URLS when they have
    // replayed the collection's writes, as in production
    replicaUrls: productionConfig.databaseReplicaUrls,
    replicaPoolSize: 2,
    log,
    schema,
    writers: [milvus.writer, neo4j.writer],
    dimensions: embedder.dimensions,
    now: opts.now,
    keywordTermDocs: productionConfig.keywordTermDocs,
    // as production composes it: writes do not wait for Milvus, searches merge its fresh tail
    outbox: outboxPlan(productionConfig, { milvus: milvus.writer.name, neo4j: neo4j.writer.name }),
  });
  const milvusVectors = milvus.vectorsCheckingWith(postgres.memories);
  await neo4j.warm();
  return {
    name: "production",
    collections: postgres.collections,
    memories: postgres.memories,
    history: postgres.memories,
    changeFeed: postgres.changeFeed,
    expiry: postgres.memories,
    vectors: productionConfig.freshTail
      ? new FreshTailVectorIndex(milvusVectors, postgres.freshTail(milvus.writer.name, productionConfig.freshTailMaxRows), log)
      : milvusVectors,
    apiKeys: postgres.apiKeys,
    reembed: postgres.reembed,
    graph: plannedGraph(productionConfig, neo4j.graph, postgres.pendingWrites(neo4j.writer.name)),
    // as production composes it: a worker-local first level in front of Redis
    cache: new TieredSearchCache(redis.searchCache(postgres.cacheGenerations), { maxEntries: 1000, maxTtlSeconds: 900 }),
    popularity: new RedisPopularity(redis.redis, { halfLifeMs: 600_000, prefix: "memory-api-test:pop:" }),
    idempotency: postgres.idempotency,
    health: [postgres.health, milvus.health, neo4j.health, redis.health],
    usage: postgres.usage,
    webhooks: postgres.webhooks,
    settle: async (timeoutMs = 60_000) => {
      if (!(await postgres.outbox.drain(timeoutMs))) {
        throw new Error(`the outbox did not drain in ${timeoutMs} ms: ${JSON.stringify(await postgres.outbox.backlog())}`);
      }
    },
    backlog: () => postgres.outbox.backlog(),
    async close() {
      await postgres.close();
      await Promise.all([milvus.close(), neo4j.close(), redis.close()]);
      // the schema is dropped so repeated runs leave nothing behind
      const { Client } = await import("pg");
      const client = new Client({ connectionString: productionConfig.databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}
