import { describe, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { ConfigError, DEFAULT_ANN_MIN_ROWS, loadConfig } from "../src/config";

describe("config", () => {
  test("defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ mode: "embedded", port: 8000, dataDir: "./data", cacheTtlSeconds: 300, jwtSecret: undefined });
    expect(c.production.databaseUrl).toBe("postgres://memory:memory@127.0.0.1:5432/memory");
  });

  test("overrides", () => {
    const c = loadConfig({ PORT: "9001", DATA_DIR: "/tmp/x", CACHE_TTL_SECONDS: "60", JWT_SECRET: "s".repeat(32) });
    expect(c).toMatchObject({ port: 9001, dataDir: "/tmp/x", cacheTtlSeconds: 60, jwtSecret: "s".repeat(32) });
  });

  test("every bad variable is named, all at once", () => {
    try {
      loadConfig({ PORT: "eighty", MEMORY_MODE: "cloud", CACHE_TTL_SECONDS: "-1", JWT_SECRET: "short", REDIS_URL: "http://x" });
      throw new Error("expected a ConfigError");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      for (const name of ["PORT", "MEMORY_MODE", "CACHE_TTL_SECONDS", "JWT_SECRET", "REDIS_URL"]) expect(message).toContain(name);
    }
  });

  test("webhooks: private targets allowed on a local (embedded) server, denied in production unless said; hosts lower-cased", () => {
    expect(loadConfig({}).webhooks).toMatchObject({ privateTargets: "allow", allowedHosts: null, maxAttempts: 20, retryBaseMs: 5000 });
    const production = loadConfig({ MEMORY_MODE: "production", JWT_SECRET: "s".repeat(32) });
    expect(production.webhooks.privateTargets).toBe("deny");
    expect(loadConfig({ MEMORY_MODE: "production", JWT_SECRET: "s".repeat(32), WEBHOOK_PRIVATE_TARGETS: "allow" }).webhooks.privateTargets).toBe("allow");
    expect(loadConfig({ WEBHOOK_ALLOWED_HOSTS: " Hooks.Example.com, ,b.example " }).webhooks.allowedHosts).toEqual(["hooks.example.com", "b.example"]);
    expect(() => loadConfig({ WEBHOOK_PRIVATE_TARGETS: "sometimes" })).toThrow('WEBHOOK_PRIVATE_TARGETS must be one of allow | deny, got "sometimes"');
    expect(() => loadConfig({ WEBHOOK_MAX_ATTEMPTS: "0" })).toThrow("WEBHOOK_MAX_ATTEMPTS must be between 1 and 1000, got 0");
  });

  test("production mode requires a shared JWT secret", () => {
    expect(() => loadConfig({ MEMORY_MODE: "production" })).toThrow(/JWT_SECRET is required/);
  });

  test("reranker CPU limits: cores − 1 slots and a 10% contended duty by default; bad values are named", () => {
    const c = loadConfig({});
    expect(c.reranker.cpuSlots).toBe(Math.max(1, availableParallelism() - 1));
    expect(c.reranker.contendedDuty).toBe(0.1);
    expect(loadConfig({ RERANK_CPU_SLOTS: "0", RERANK_CONTENDED_DUTY: "0.5" }).reranker).toMatchObject({ cpuSlots: 0, contendedDuty: 0.5 });
    expect(() => loadConfig({ RERANK_CONTENDED_DUTY: "0" })).toThrow("RERANK_CONTENDED_DUTY must be between 0.01 and 1, got 0");
    expect(() => loadConfig({ RERANK_CONTENDED_DUTY: "half" })).toThrow('RERANK_CONTENDED_DUTY must be a number, got "half"');
    expect(() => loadConfig({ RERANK_CPU_SLOTS: "-1" })).toThrow("RERANK_CPU_SLOTS must be between 0 and 1024, got -1");
  });

  test("premium ranking: the bi-encoder by default, the cross-encoder on request, each with its own tuned blend and pool, which variables still override", () => {
    expect(loadConfig({ RERANKER_KIND: "cross-encoder" }).reranker).toMatchObject({ kind: "cross-encoder", candidates: 10, interpolationWeight: 0.1, interpolationRankK: 20 });
    expect(loadConfig({}).reranker).toMatchObject({
      kind: "bi-encoder",
      biEncoderDir: "models/e5-small-v2",
      candidates: 20,
      interpolationWeight: 0.5,
      interpolationRankK: 20,
    });
    expect(loadConfig({ RERANK_CANDIDATES: "30", RERANK_INTERPOLATION_WEIGHT: "0.4" }).reranker).toMatchObject({
      candidates: 30,
      interpolationWeight: 0.4,
    });
    expect(loadConfig({}).reranker.biEncoderWorkers).toBe(Math.min(availableParallelism(), 2));
    expect(loadConfig({ WORKER_INDEX: "1" }).reranker.biEncoderWorkers).toBe(1);
    expect(loadConfig({ RERANK_BI_ENCODER_WORKERS: "3" }).reranker.biEncoderWorkers).toBe(3);
    expect(() => loadConfig({ RERANK_BI_ENCODER_WORKERS: "0" })).toThrow("RERANK_BI_ENCODER_WORKERS must be between 1 and 64, got 0");
    expect(() => loadConfig({ RERANKER_KIND: "colbert" })).toThrow('RERANKER_KIND must be one of cross-encoder | bi-encoder, got "colbert"');
  });

  test("embedded, one process: search threads and embedding workers on every core; a cluster worker or production embeds on one", () => {
    const cores = availableParallelism();
    expect(loadConfig({}).embeddedSearchThreads).toBe(Math.min(cores, 8));
    expect(loadConfig({}).embedding.workers).toBe(Math.min(cores, 4));
    expect(loadConfig({ WORKER_INDEX: "0" }).embedding.workers).toBe(1);
    expect(loadConfig({ MEMORY_MODE: "production", JWT_SECRET: "x".repeat(32) }).embedding.workers).toBe(1);
    expect(loadConfig({ EMBED_WORKERS: "3", EMBEDDED_SEARCH_THREADS: "0" })).toMatchObject({ embeddedSearchThreads: 0, embedding: { workers: 3 } });
    expect(() => loadConfig({ EMBED_WORKERS: "0" })).toThrow("EMBED_WORKERS must be between 1 and 64, got 0");
    expect(() => loadConfig({ EMBEDDED_SEARCH_THREADS: "many" })).toThrow("EMBEDDED_SEARCH_THREADS");
  });

  test("embedded ANN: collections of EMBEDDED_ANN_MIN_ROWS memories or more get an index; off or 0 turns it off", () => {
    expect(loadConfig({}).embeddedAnnMinRows).toBe(DEFAULT_ANN_MIN_ROWS);
    expect(loadConfig({ EMBEDDED_ANN_MIN_ROWS: "20000" }).embeddedAnnMinRows).toBe(20_000);
    expect(loadConfig({ EMBEDDED_ANN_MIN_ROWS: "off" }).embeddedAnnMinRows).toBeNull();
    expect(loadConfig({ EMBEDDED_ANN_MIN_ROWS: "OFF" }).embeddedAnnMinRows).toBeNull();
    expect(loadConfig({ EMBEDDED_ANN_MIN_ROWS: "0" }).embeddedAnnMinRows).toBeNull();
    expect(() => loadConfig({ EMBEDDED_ANN_MIN_ROWS: "-5" })).toThrow("EMBEDDED_ANN_MIN_ROWS must be between 1 and 1000000000, got -5");
    expect(() => loadConfig({ EMBEDDED_ANN_MIN_ROWS: "lots" })).toThrow('EMBEDDED_ANN_MIN_ROWS must be an integer, got "lots"');
  });

  test("production: writes do not wait for Milvus (the fresh tail) unless FRESH_TAIL=false", () => {
    expect(loadConfig({}).production).toMatchObject({ freshTail: true, freshTailMaxRows: 2000 });
    expect(loadConfig({ FRESH_TAIL: "false", FRESH_TAIL_MAX_ROWS: "50" }).production).toMatchObject({ freshTail: false, freshTailMaxRows: 50 });
    expect(() => loadConfig({ FRESH_TAIL_MAX_ROWS: "0" })).toThrow("FRESH_TAIL_MAX_ROWS must be between 1 and 100000, got 0");
    expect(() => loadConfig({ FRESH_TAIL: "maybe" })).toThrow("FRESH_TAIL");
  });

  test("milvus replicas: one by default; several need the fresh tail, which keeps a delivery for the graceful time", () => {
    expect(loadConfig({}).production).toMatchObject({ milvusReplicas: 1, milvusGracefulTimeMs: 5000 });
    expect(loadConfig({ MILVUS_REPLICAS: "3", MILVUS_GRACEFUL_TIME_MS: "2000" }).production).toMatchObject({ milvusReplicas: 3, milvusGracefulTimeMs: 2000 });
    expect(() => loadConfig({ MILVUS_REPLICAS: "0" })).toThrow("MILVUS_REPLICAS must be between 1 and 64, got 0");
    expect(() => loadConfig({ MILVUS_REPLICAS: "2", FRESH_TAIL: "false" })).toThrow("MILVUS_REPLICAS=2 needs FRESH_TAIL=true");
    expect(loadConfig({ MILVUS_REPLICAS: "1", FRESH_TAIL: "false" }).production.freshTail).toBe(false);
  });

  test("graph writes: deferred to graph reads unless GRAPH_DEFERRED=false", () => {
    expect(loadConfig({}).production.graphDeferred).toBe(true);
    expect(loadConfig({ GRAPH_DEFERRED: "false" }).production.graphDeferred).toBe(false);
    expect(() => loadConfig({ GRAPH_DEFERRED: "later" })).toThrow("GRAPH_DEFERRED");
  });

  test("cached semantic answers roll forward after writes unless CACHE_ROLL_FORWARD=false", () => {
    expect(loadConfig({}).cachePolicy.rollForward).toEqual({ margin: 10, maxChanges: 1000 });
    expect(loadConfig({ CACHE_ROLL_MARGIN: "3", CACHE_ROLL_MAX_CHANGES: "20" }).cachePolicy.rollForward).toEqual({ margin: 3, maxChanges: 20 });
    expect(loadConfig({ CACHE_ROLL_FORWARD: "false" }).cachePolicy.rollForward).toBeNull();
    expect(() => loadConfig({ CACHE_ROLL_MARGIN: "0" })).toThrow("CACHE_ROLL_MARGIN must be between 1 and 1000, got 0");
    expect(() => loadConfig({ CACHE_ROLL_FORWARD: "sometimes" })).toThrow("CACHE_ROLL_FORWARD");
  });

  test("read replicas: none by default; a comma-separated list of postgres URLs, each checked (password never echoed)", () => {
    expect(loadConfig({}).production).toMatchObject({ databaseReplicaUrls: [], pgReplicaPoolSize: 10 });
    expect(loadConfig({ DATABASE_REPLICA_URLS: " " }).production.databaseReplicaUrls).toEqual([]);
    const two = "postgres://memory:pw@10.0.0.2:5432/memory, postgresql://memory:pw@10.0.0.3:5432/memory";
    expect(loadConfig({ DATABASE_REPLICA_URLS: two, PG_REPLICA_POOL_SIZE: "4" }).production).toMatchObject({
      databaseReplicaUrls: ["postgres://memory:pw@10.0.0.2:5432/memory", "postgresql://memory:pw@10.0.0.3:5432/memory"],
      pgReplicaPoolSize: 4,
    });
    expect(() => loadConfig({ DATABASE_REPLICA_URLS: "postgres://a@h/db,redis://h:6379" })).toThrow("DATABASE_REPLICA_URLS: item 2 must use postgres: or postgresql:");
    try {
      loadConfig({ DATABASE_REPLICA_URLS: "postgres://memory:hunter2@[bad/db" });
      throw new Error("expected a ConfigError");
    } catch (error) {
      expect((error as Error).message).toContain("DATABASE_REPLICA_URLS: item 1 is not a valid URL");
      expect((error as Error).message).not.toContain("hunter2");
    }
    expect(() => loadConfig({ PG_REPLICA_POOL_SIZE: "0" })).toThrow("PG_REPLICA_POOL_SIZE");
  });

  test("redis topology: one server by default; a cluster or Sentinels by their lists, each item checked", () => {
    const url = "redis://:pw@10.0.0.1:6379";
    expect(loadConfig({ REDIS_URL: url }).production.redis).toEqual({ kind: "single", url });
    expect(loadConfig({ REDIS_URL: url, REDIS_CLUSTER_NODES: "10.0.0.1:7001, redis-b:7002,[::1]:7003" }).production.redis).toEqual({
      kind: "cluster",
      url,
      nodes: [
        { host: "10.0.0.1", port: 7001 },
        { host: "redis-b", port: 7002 },
        { host: "::1", port: 7003 },
      ],
    });
    expect(loadConfig({ REDIS_SENTINELS: "s1:26379,s2:26379", REDIS_SENTINEL_MASTER: "mymaster", REDIS_SENTINEL_PASSWORD: "spw" }).production.redis).toMatchObject({
      kind: "sentinel",
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26379 },
      ],
      master: "mymaster",
      sentinelPassword: "spw",
    });
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: "a:1", REDIS_SENTINELS: "b:2", REDIS_SENTINEL_MASTER: "m" })).toThrow("exclude each other");
    expect(() => loadConfig({ REDIS_SENTINELS: "b:26379" })).toThrow("REDIS_SENTINELS needs REDIS_SENTINEL_MASTER");
    expect(() => loadConfig({ REDIS_SENTINEL_MASTER: "m" })).toThrow("REDIS_SENTINELS is not");
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: "a:7001,b" })).toThrow('REDIS_CLUSTER_NODES: "b" is not host:port');
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: "a:70000" })).toThrow('"a:70000" is not host:port');
  });
});
