/**
 * The production wiring's metrics on the real services: PostgreSQL pool gauges, outbox backlog
 * per target, and the latency / error metrics of Postgres, Milvus, Neo4j and Redis calls, with
 * the stores wrapped exactly as src/runtime/production.ts wraps them (src/metrics/stores.ts).
 * A third outbox target that always fails shows a growing backlog and counted errors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildApp } from "../../src/app";
import { createTokenService } from "../../src/auth/tokens";
import { silentLogger } from "../../src/log";
import { createMetrics } from "../../src/metrics/metrics";
import { timedCache, timedCollections, timedMemories, timedRateLimiter, timedVectors, timedWriter, watch } from "../../src/metrics/stores";
import type { IndexWriter } from "../../src/ports/index-writer";
import { sharedEmbedder } from "../support/embedder";
import { productionConfig, servicesAvailable } from "../support/services";
import { toReply, TEST_SECRET } from "../support/app";
import { afterResponses, parseExposition } from "./exposition";

const run = await servicesAvailable("metrics on the real services", ["postgres", "redis", "milvus", "neo4j"]);

const brokenWriter: IndexWriter = {
  name: "broken_index",
  upsert: async () => Promise.reject(new Error("broken index is down")),
  delete: async () => Promise.reject(new Error("broken index is down")),
  deleteCollection: async () => Promise.reject(new Error("broken index is down")),
};

describe.skipIf(!run)("metrics with the real services", () => {
  const schema = `metrics_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const closers: (() => Promise<void>)[] = [];
  let app: ReturnType<typeof buildApp>;
  const tokens = createTokenService(TEST_SECRET);

  beforeAll(async () => {
    const [{ openPostgresStores }, { openMilvusIndex }, { openNeo4jGraph }, { openRedisCache }, { RedisRateLimiter }] = await Promise.all([
      import("../../src/stores/postgres"),
      import("../../src/stores/milvus"),
      import("../../src/stores/neo4j"),
      import("../../src/stores/redis"),
      import("../../src/stores/redis/rate-limiter"),
    ]);
    const embedder = await sharedEmbedder();
    const metrics = createMetrics();
    const log = silentLogger;
    const milvus = await openMilvusIndex({ address: productionConfig.milvusAddress, collection: "memories_api_tests", dimensions: embedder.dimensions, replicas: productionConfig.milvusReplicas, log });
    await milvus.warm();
    const neo4j = await openNeo4jGraph({ uri: productionConfig.neo4jUri, log });
    await neo4j.warm();
    const redis = await openRedisCache({ redis: productionConfig.redisUrl, log });
    const postgres = await openPostgresStores({
      url: productionConfig.databaseUrl,
      poolSize: 4,
      log,
      schema,
      deliveryTimeoutMs: 1000,
      writers: [timedWriter(metrics, milvus.writer), timedWriter(metrics, neo4j.writer), timedWriter(metrics, brokenWriter)],
      dimensions: embedder.dimensions,
    });
    closers.push(async () => {
      await postgres.close();
      await Promise.all([milvus.close(), neo4j.close(), redis.close()]);
      const { Client } = await import("pg");
      const client = new Client({ connectionString: productionConfig.databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    });
    const rateLimiter = new RedisRateLimiter(redis.redis, log);
    watch(metrics, { embedder, embedderQueueLimit: 4096, postgres, rateLimiter });
    app = buildApp({
      tokens,
      collections: timedCollections(metrics, "postgres", postgres.collections),
      memories: timedMemories(metrics, "postgres", postgres.memories),
      vectors: timedVectors(metrics, "milvus", milvus.vectorsCheckingWith(postgres.memories)),
      cache: timedCache(metrics, "redis", redis.searchCache(postgres.cacheGenerations)),
      embedder,
      healthChecks: [postgres.health],
      rateLimit: { limiter: timedRateLimiter(metrics, "redis", rateLimiter), perMinute: { free: 1000, starter: 1000, pro: 1000, enterprise: 1000 } },
      log,
      metrics,
      settings: { cacheTtlSeconds: 60, hybridCandidates: 50, maxBodyBytes: 1 << 20 },
    });
  }, 120_000);
  afterAll(async () => {
    for (const close of closers) await close();
  });

  const call = async (method: string, path: string, token?: string, body?: unknown) =>
    toReply(
      await app.handle(
        new Request(`http://localhost${path}`, {
          method,
          headers: { ...(token && { authorization: `Bearer ${token}` }), "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      ),
    );

  test("pool, outbox backlog per target, and every dependency's latency and errors", async () => {
    const token = await tokens.sign({ sub: `metrics-${schema}`, tier: "free", ttlSeconds: 600 });
    const created = await call("POST", "/v1/collections", token, { name: "metrics" });
    expect(created.status).toBe(201);
    const cid = created.body.id as string;
    const added = await call("POST", `/v1/collections/${cid}/memories`, token, {
      memories: [{ content: "the boiler is serviced every autumn" }, { content: "the car needs new tyres" }],
    });
    expect(added.status).toBe(201); // acknowledged although one index is down
    for (let i = 0; i < 2; i++) {
      const searched = await call("POST", "/v1/search", token, { query: "when is the boiler serviced", collection_id: cid });
      expect(searched.status).toBe(200);
    }
    await afterResponses();
    // Neo4j gets its rows from the outbox, after the write is acknowledged: wait (bounded) until
    // the relay has delivered them, so the counts below describe the finished work
    const scrape = async () => parseExposition((await call("GET", "/metrics")).text);
    let m = await scrape();
    const delivered = () => m.value("memory_api_dependency_duration_seconds_count", { dependency: "neo4j", operation: "writer.upsert" }) >= 1;
    for (const deadline = Date.now() + 30_000; !delivered() && Date.now() < deadline; m = await scrape()) await Bun.sleep(100);

    expect(m.value("memory_api_pg_pool_max")).toBe(4);
    expect(m.value("memory_api_pg_pool_total")).toBeGreaterThanOrEqual(1);
    expect(m.value("memory_api_pg_pool_total")).toBeLessThanOrEqual(4);
    expect(m.value("memory_api_pg_pool_idle")).toBeLessThanOrEqual(m.value("memory_api_pg_pool_total"));
    expect(m.value("memory_api_pg_pool_waiting")).toBe(0);

    // 2 memories queued for the broken index (one row each); the real indexes got theirs
    expect(m.value("memory_api_outbox_backlog", { target: "broken_index" })).toBe(2);
    expect(m.find("memory_api_outbox_backlog").map((s) => s.labels.target).sort()).toEqual(["broken_index", "milvus", "neo4j"]);
    expect(m.value("memory_api_dependency_errors_total", { dependency: "broken_index", operation: "writer.upsert" })).toBeGreaterThanOrEqual(1);

    const calls = (dependency: string, operation: string) =>
      m.value("memory_api_dependency_duration_seconds_count", { dependency, operation });
    expect(calls("postgres", "collections.create")).toBe(1);
    expect(calls("postgres", "memories.upsert")).toBe(1);
    expect(calls("postgres", "memories.hydrate")).toBe(1); // the second search was a cache hit
    expect(calls("milvus", "vectors.search")).toBe(1);
    expect(calls("milvus", "writer.upsert")).toBeGreaterThanOrEqual(1);
    expect(calls("neo4j", "writer.upsert")).toBeGreaterThanOrEqual(1);
    expect(calls("redis", "cache.get")).toBe(2);
    expect(calls("redis", "cache.set")).toBe(1);
    // one per authenticated request, plus one for the batch's cost beyond its first unit
    // (2 memories = 2 units: src/http/cost.ts)
    expect(calls("redis", "rate_limit.consume")).toBe(5);
    for (const dependency of ["postgres", "milvus", "neo4j", "redis"]) {
      expect(m.value("memory_api_dependency_errors_total", { dependency })).toBe(0);
      expect(m.value("memory_api_dependency_duration_seconds_sum", { dependency })).toBeGreaterThan(0);
    }
    expect(m.value("memory_api_search_cache_hits_total")).toBe(1);
    expect(m.value("memory_api_search_cache_misses_total")).toBe(1);
    expect(m.value("memory_api_rate_limit_fallbacks_total")).toBe(0);
    expect(m.value("memory_api_embedder_queue_limit")).toBe(4096);
  }, 60_000);
});
