import type { Config } from "../config";
import type { Logger } from "../log";
import { createTokenService } from "../auth/tokens";
import { openPremiumScorer, premiumReranker } from "./reranker";
import { appSettings, embedderHealth, embedderOptions, webhookDeps, optionalDependency } from "./shared";
import { createOnnxEmbedder } from "../ml/embedder";
import { openPostgresStores } from "../stores/postgres";
import { openRedisCache } from "../stores/redis";
import { RedisRateLimiter } from "../stores/redis/rate-limiter";
import { LeasedRateLimiter } from "../stores/shared/leased-rate-limiter";
import { RedisPopularity } from "../stores/redis/popularity";
import { TieredSearchCache } from "../stores/in-process/tiered-cache";
import { openMilvusIndex } from "../stores/milvus";
import { outboxPlan, plannedGraph } from "./outbox-plan";
import { FreshTailVectorIndex } from "../search/fresh-tail-index";
import { openNeo4jGraph } from "../stores/neo4j";
import type { Runtime } from "./embedded";
import { waitFor } from "./retry";
import { openRevocationStore, startRevocationList, tokenPolicy } from "./revocations";
import { createMetrics } from "../metrics/metrics";
import { timedCache, timedCollections, timedMemories, timedRateLimiter, timedVectors, timedWriter, watch } from "../metrics/stores";

const STARTUP_TIMEOUT_MS = 120_000;

/** Opens and warms a service; on a failed warm-up it closes what it opened, so a retry starts clean. */
async function opened<T extends { warm(): Promise<unknown>; close(): Promise<void> }>(opening: Promise<T>): Promise<T> {
  const service = await opening;
  try {
    await service.warm();
    return service;
  } catch (error) {
    await service.close().catch(() => {});
    throw error;
  }
}

/**
 * The production mode: PostgreSQL is the source of truth (with the outbox), Milvus the vector
 * index, Neo4j the graph, Redis the shared cache. Everything is connected and warm before this
 * resolves: the Milvus collection loaded, the Postgres pool pre-filled, one embedding run.
 */
export async function openProductionRuntime(config: Config, log: Logger, jwtSecret: string): Promise<Runtime> {
  const p = config.production;
  // store calls are timed where the adapters are wired (the app sees only the ports)
  const metrics = createMetrics({ processMetrics: true });
  const scorer = await openPremiumScorer(config, log);
  const [embedder, milvus, neo4j, redis] = await Promise.all([
    createOnnxEmbedder(embedderOptions(config)),
    // opened AND warmed inside the retry: a Milvus that just restarted answers before it has
    // reloaded its collections, and its first searches time out meanwhile
    waitFor("milvus", () => opened(openMilvusIndex({ address: p.milvusAddress, dimensions: 384, replicas: p.milvusReplicas, log })), log, STARTUP_TIMEOUT_MS),
    waitFor(
      "neo4j",
      () => opened(openNeo4jGraph({ uri: p.neo4jUri, user: p.neo4jUser, password: p.neo4jPassword, poolSize: p.neo4jPoolSize, log })),
      log,
      STARTUP_TIMEOUT_MS,
    ),
    openRedisCache({ redis: p.redis, log }),
  ]);
  if (embedder.dimensions !== 384) {
    throw new Error(`the production Milvus schema is 384-d; the embedding model gives ${embedder.dimensions}`);
  }
  const postgres = await waitFor(
    "postgres",
    () =>
      openPostgresStores({
        url: p.databaseUrl,
        poolSize: p.pgPoolSize,
        replicaUrls: p.databaseReplicaUrls,
        replicaPoolSize: p.pgReplicaPoolSize,
        log,
        writers: [timedWriter(metrics, milvus.writer), timedWriter(metrics, neo4j.writer)],
        dimensions: embedder.dimensions,
        keywordTermDocs: p.keywordTermDocs,
        outbox: outboxPlan(p, { milvus: milvus.writer.name, neo4j: neo4j.writer.name }),
      }),
    log,
    STARTUP_TIMEOUT_MS,
  );
  const warmed = await postgres.warm(p.pgPoolSize); // the whole pool, before any traffic
  if (warmed < p.pgPoolSize) log.warn("postgres pool only partly warmed: the rest opens on first use", { pg_pool: p.pgPoolSize, open: warmed });
  log.info("production stores connected and warm", { pg_pool: p.pgPoolSize, open: warmed, pg_replicas: p.databaseReplicaUrls.length });

  const milvusVectors = milvus.vectorsCheckingWith(postgres.memories);
  const embedderCheck = embedderHealth(embedder);
  const redisCache = timedCache(metrics, "redis", redis.searchCache(postgres.cacheGenerations));
  const rateLimiter = new RedisRateLimiter(redis.redis, log);
  const revocations = await startRevocationList((await openRevocationStore(config, log, redis.redis)).store, config, log);
  watch(metrics, {
    embedder,
    embedderQueueLimit: config.embedding.maxQueue,
    reranker: scorer,
    rerankerQueueLimit: config.reranker.maxQueue,
    postgres,
    rateLimiter,
  });
  return {
    deps: {
      tokens: createTokenService(jwtSecret, { policy: tokenPolicy(config), revocations }),
      apiKeys: postgres.apiKeys,
      collections: timedCollections(metrics, "postgres", postgres.collections),
      memories: timedMemories(metrics, "postgres", postgres.memories),
      history: postgres.memories,
      changeFeed: postgres.changeFeed,
      vectors: timedVectors(metrics, "milvus", p.freshTail ? new FreshTailVectorIndex(milvusVectors, postgres.freshTail(milvus.writer.name, p.freshTailMaxRows), log) : milvusVectors),
      // graph search and /entities read Neo4j; when it is down they answer 503, the rest works
      graph: plannedGraph(p, neo4j.graph, postgres.pendingWrites(neo4j.writer.name)),
      cache:
        config.cachePolicy.l1MaxEntries > 0
          ? new TieredSearchCache(redisCache, {
              maxEntries: config.cachePolicy.l1MaxEntries,
              maxBytes: config.cacheMaxBytes,
              maxEntryBytes: config.cacheMaxEntryBytes,
              maxTtlSeconds: Math.max(config.cacheTtlSeconds, config.cachePolicy.hotTtlSeconds),
            })
          : redisCache,
      idempotency: postgres.idempotency,
      webhooks: webhookDeps(config, postgres.webhooks),
      popularity: new RedisPopularity(redis.redis, { halfLifeMs: config.cachePolicy.popularityHalfLifeSeconds * 1000 }),
      embedder,
      reranker: premiumReranker(config, scorer),
      healthChecks: [postgres.health, milvus.health, optionalDependency(neo4j.health), redis.health, embedderCheck],
      rateLimit: config.rateLimits
        ? { limiter: new LeasedRateLimiter(timedRateLimiter(metrics, "redis", rateLimiter), config.rateLimitLeases), perMinute: config.rateLimits }
        : undefined,
      tierLimits: config.tierLimits ?? undefined,
      usage: postgres.usage,
      log,
      metrics,
      settings: appSettings(config),
    },
    expiry: postgres.memories,
    async close() {
      await revocations.close();
      await postgres.close();
      await Promise.all([milvus.close(), neo4j.close(), redis.close(), embedder.close(), scorer?.close()]);
    },
  };
}
