/**
 * The one place that reads the environment. `loadConfig` is pure (it takes the env record),
 * validates every variable and throws a ConfigError naming each bad one.
 */

import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, EnvReader, redactCredentials, type Env } from "./env-reader";
import { DEFAULT_HYBRID_FUSION, DEFAULT_RERANK_CANDIDATES } from "./domain/search";

export { ConfigError, redactCredentials };

export type Mode = "embedded" | "production";

export interface Config {
  mode: Mode;
  host: string;
  port: number;
  dataDir: string;
  /** Unset in embedded mode means "generate one and persist it under dataDir". */
  jwtSecret: string | undefined;
  /** What an access token must satisfy besides its signature and expiry (src/auth/token-policy.ts). */
  tokens: {
    maxAgeSeconds: number;
    clockSkewSeconds: number;
    issuer: string | undefined;
    audience: string | undefined;
    /** How often a worker re-reads the shared revocation list: the most a revocation takes to bite. */
    revocationRefreshMs: number;
  };
  /** TTL of a cached answer to a rarely asked search. */
  cacheTtlSeconds: number;
  cacheMaxEntries: number;
  /** Bytes of answers one worker keeps in memory (the embedded cache, production's first level). */
  cacheMaxBytes: number;
  /** An answer larger than this is not cached (computed again when asked again). */
  cacheMaxEntryBytes: number;
  /** Embedded mode: threads running vector searches off the event loop (0 = on it). */
  embeddedSearchThreads: number;
  /** Embedded mode: the smallest collection searched through an ANN (HNSW) index; null = never (exact scans only). */
  embeddedAnnMinRows: number | null;
  cachePolicy: {
    /** TTL of a cached answer to a popular search. */
    hotTtlSeconds: number;
    /** Decayed askings from which a search is popular. */
    hotThreshold: number;
    /** Half-life of the popularity counters. */
    popularityHalfLifeSeconds: number;
    /** Popular searches of a collection recomputed after a write; 0 = no pre-warming. */
    prewarmTop: number;
    /** Most searched collections pre-warmed when a worker starts. */
    prewarmCollectionsAtStart: number;
    /** Production: answers kept in each worker's memory in front of Redis; 0 = none. */
    l1MaxEntries: number;
    /** Semantic answers brought up to date from the change log after writes; null = off. */
    rollForward: { margin: number; maxChanges: number } | null;
  };
  maxBodyBytes: number;
  /** A request unanswered after this long gets a 503 with Retry-After instead of hanging. */
  requestTimeoutMs: number;
  /** How long the answer to a write with an Idempotency-Key is kept for its retries. */
  idempotencyRetentionSeconds: number;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  /** One JSON line per request (method, route template, status, duration, request id). */
  accessLog: boolean;
  embedding: {
    modelDir: string;
    maxBatch: number;
    maxQueue: number;
    queryCacheSize: number;
    threads: number;
    /** Embedding workers, each with its own model copy. */
    workers: number;
    /** Embed each text alone: bit-exact vectors whatever the load, at ~35% less throughput. */
    batchInvariant: boolean;
  };
  reranker: {
    /** RERANKER_KIND: a larger bi-encoder (RERANKER_BI_ENCODER_DIR; the default) or the cross-encoder. */
    kind: RerankerKind;
    /** The cross-encoder folder; reranking is off (answers say why) when it is absent. */
    modelDir: string;
    /** The embedding-model folder premium rescoring uses when `kind` is "bi-encoder". */
    biEncoderDir: string;
    /**
     * Candidates reranked per search: the pool is max(top_k, this). The default (10) reorders
     * the answer's own top 10: on the public eval a wider pool only let the cross-encoder pull in
     * worse candidates (docs/quality.md), and it costs inference linearly.
     */
    candidates: number;
    maxQueue: number;
    maxBatchPairs: number;
    /** Token budget of one (query, memory) pair. */
    maxLength: number;
    /**
     * The bi-encoder's worker threads (one model copy each): a rescoring's texts are shared
     * between them, and two premium searches do not wait for each other.
     */
    biEncoderWorkers: number;
    /** Most milliseconds a search waits for its scores before answering unreranked. */
    maxWaitMs: number;
    /** SCHED_IDLE for the inference thread: it only gets CPU time no request thread wants. */
    idleScheduling: boolean;
    /** Nice value of the inference thread when idle scheduling is off. */
    nice: number;
    /** Inference threads running at once on this machine, all workers together; 0 = uncapped. */
    cpuSlots: number;
    /** Folder of the lock files behind `cpuSlots` (the same for every worker of the machine). */
    cpuSlotsDir: string;
    /** Share of the time inference may compute while request threads want the CPU (0, 1]. */
    contendedDuty: number;
    /**
     * Weight of the cross-encoder's score against the hybrid order in a premium ranking [0, 1];
     * 1 = the cross-encoder alone (docs/quality.md: alone it ranks far below hybrid on public data).
     */
    interpolationWeight: number;
    /** Rank constant of the hybrid-order prior the cross-encoder's score is blended with. */
    interpolationRankK: number;
  };
  cluster: {
    /** Worker processes of `bun run cluster`; 0 = one per core. */
    workers: number;
    /** The first worker's port; the others follow. */
    basePort: number;
  };
  /** Requests per minute per user, by tier; null = not limited. */
  rateLimits: Record<"free" | "starter" | "pro" | "enterprise", number> | null;
  /**
   * Production: each worker leases up to `maxUnits` of a budget from Redis at once and spends
   * them locally for up to `leaseMs` (src/stores/shared/leased-rate-limiter.ts); 1 = none.
   */
  rateLimitLeases: { maxUnits: number; leaseMs: number };
  /** What requests cost in rate-limit units beyond one (src/http/cost.ts). */
  cost: {
    /** A search_type "graph" search. */
    graphSearchUnits: number;
    /** A memory costs one unit plus one per this many bytes of content and metadata. */
    bytesPerUnit: number;
  };
  /** Per-tenant quotas and write concurrency by tier; null = none. */
  tierLimits: Record<"free" | "starter" | "pro" | "enterprise", TierLimits> | null;
  search: {
    /** Candidates fetched per retriever before hybrid fusion (at least top_k). */
    hybridCandidates: number;
    /** Reciprocal rank fusion constant of hybrid search. */
    hybridRrfK: number;
    /** Weight of the semantic ranking in hybrid fusion. */
    hybridSemanticWeight: number;
    /** Weight of the keyword ranking in hybrid fusion. */
    hybridKeywordWeight: number;
  };
  /** Entity and relation extraction from memory text at write time; client-supplied ones are always kept. */
  graphExtraction: "auto" | "off";
  /** The memories' change log (GET …/history). */
  history: {
    /** Days a change is kept (after its memory is deleted too); 0 = forever. */
    retentionDays: number;
    /** Seconds between prunings of older entries. */
    pruneIntervalSeconds: number;
  };
  expiry: {
    /** Seconds between purges of expired memories (already invisible); 0 = never purge. */
    sweepIntervalSeconds: number;
  };
  /** Delivery of collection changes to registered URLs (src/webhooks). */
  webhooks: {
    /** Whether webhook URLs may point at loopback, private or reserved addresses (SSRF guard). */
    privateTargets: "allow" | "deny";
    /** When set, the only hosts webhook URLs may name (lower case). */
    allowedHosts: string[] | null;
    /** Bound on one delivery request. */
    timeoutMs: number;
    /** How often an idle dispatcher looks for changes to deliver. */
    pollMs: number;
    /** Most events in one delivery. */
    batchSize: number;
    /** Failed attempts in a row after which a webhook is disabled. */
    maxAttempts: number;
    /** First retry delay, doubled per failure up to the maximum. */
    retryBaseMs: number;
    retryMaxMs: number;
    /** Days the delivery log is kept; 0 = forever. */
    deliveryRetentionDays: number;
  };
  production: {
    databaseUrl: string;
    pgPoolSize: number;
    /**
     * Hot standbys of that PostgreSQL; reads that tolerate lag go to one when it has replayed
     * every write of the collection read (src/stores/postgres/replica-reads.ts). Empty = none.
     */
    databaseReplicaUrls: string[];
    /** Most connections of this process to each replica. */
    pgReplicaPoolSize: number;
    redisUrl: string;
    /** Which Redis deployment REDIS_URL's credentials open: one server, a cluster, or a master found through Sentinel. */
    redis: RedisTopology;
    milvusAddress: string;
    /**
     * Query-node replicas Milvus loads the collection with; each search is served by one. Above 1,
     * a delivered write stays in the fresh tail for milvusGracefulTimeMs plus a margin
     * (postgres/settling.ts), so FRESH_TAIL must be on.
     */
    milvusReplicas: number;
    /** Milvus' `common.gracefulTime`: how far behind a Bounded search may read (Milvus' default 5000 ms). */
    milvusGracefulTimeMs: number;
    neo4jUri: string;
    neo4jUser: string | undefined;
    neo4jPassword: string | undefined;
    neo4jPoolSize: number;
    /** Documents keyword search reads a query word, best first; 0 = all (exact BM25). */
    keywordTermDocs: number;
    /**
     * Writes are acknowledged once committed, not once Milvus can search them: searches merge
     * the writes Milvus has not confirmed (the fresh tail). false = each write waits for Milvus.
     */
    freshTail: boolean;
    /** Most pending memories one search merges from the fresh tail. */
    freshTailMaxRows: number;
    /**
     * Writes are acknowledged without waiting for Neo4j: its rows are delivered in batches, and a
     * graph read first delivers its collection's pending ones. false = each write waits for Neo4j.
     */
    graphDeferred: boolean;
  };
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * One Redis server (REDIS_URL), a Redis Cluster (REDIS_CLUSTER_NODES: seed nodes; the client
 * learns the rest), or the master a set of Sentinels names (REDIS_SENTINELS + REDIS_SENTINEL_MASTER).
 * In the last two, REDIS_URL gives only the credentials and the scheme (rediss: = TLS).
 */
export type RedisTopology =
  | { kind: "single"; url: string }
  | { kind: "cluster"; url: string; nodes: HostPort[] }
  | { kind: "sentinel"; url: string; sentinels: HostPort[]; master: string; sentinelPassword: string | undefined };

export const RERANKER_KINDS = ["cross-encoder", "bi-encoder"] as const;
export type RerankerKind = (typeof RERANKER_KINDS)[number];

/**
 * Each premium ranking's blend with the hybrid order and its pool, chosen on the quality eval's
 * dev split (docs/quality.md, Premium rerank): the bi-encoder gets half the weight over a pool of
 * 20; the cross-encoder earns little weight on public data.
 */
export const RERANK_DEFAULTS: Record<RerankerKind, { candidates: number; interpolationWeight: number; interpolationRankK: number }> = {
  "cross-encoder": { candidates: DEFAULT_RERANK_CANDIDATES, interpolationWeight: 0.1, interpolationRankK: 20 },
  "bi-encoder": { candidates: 20, interpolationWeight: 0.5, interpolationRankK: 20 },
};

/**
 * The defaults of the settings that name a port or another process: constants (no env is read),
 * and what `scripts/stack` starts the services with, so a server with no variables set finds them.
 */
export const DEFAULTS = {
  host: "127.0.0.1",
  port: 8000,
  /** The first worker of `bun run cluster`; the others follow. */
  clusterBasePort: 8001,
  postgres: { port: 5432, user: "memory", password: "memory", database: "memory" },
  /** The stack's streaming standby of that PostgreSQL (same role and database). */
  postgresReplica: { port: 5433 },
  redis: { port: 6379 },
  milvus: { port: 19530 },
  neo4j: { port: 7687 },
} as const;

/** How each service's address is written, in the server's defaults and the stack's `env`. */
export const serviceUrls = {
  postgres: (host: string, db: { port: number; user: string; password: string; database: string }) =>
    `postgres://${db.user}:${db.password}@${host}:${db.port}/${db.database}`,
  redis: (host: string, port: number, password?: string) =>
    password ? `redis://:${encodeURIComponent(password)}@${host}:${port}` : `redis://${host}:${port}`,
  milvus: (host: string, port: number) => `${host}:${port}`,
  neo4j: (host: string, port: number) => `bolt://${host}:${port}`,
};

export interface TierLimits {
  collections: number;
  memories: number;
  /** UTF-8 bytes of content and metadata, all collections together. */
  bytes: number;
  /** Memories of one tenant being written at once on one worker (a lone request always passes). */
  writeMemoriesInFlight: number;
}

/** Documented in docs/configuration.md (Quotas and costs). */
export const DEFAULT_TIER_LIMITS: Record<"free" | "starter" | "pro" | "enterprise", TierLimits> = {
  free: { collections: 10, memories: 10_000, bytes: 50 * 1024 ** 2, writeMemoriesInFlight: 100 },
  starter: { collections: 100, memories: 100_000, bytes: 500 * 1024 ** 2, writeMemoriesInFlight: 1000 },
  pro: { collections: 1000, memories: 1_000_000, bytes: 5 * 1024 ** 3, writeMemoriesInFlight: 1000 },
  enterprise: { collections: 10_000, memories: 10_000_000, bytes: 50 * 1024 ** 3, writeMemoriesInFlight: 2000 },
};


/** Where the exact scan and the ANN index cost the same per search (bench/experiments/embedded-ann.md). */
export const DEFAULT_ANN_MIN_ROWS = 5_000;

/** EMBEDDED_ANN_MIN_ROWS: a count of memories, or `off` / `0` for exact scans only. */
function annMinRows(r: EnvReader): number | null {
  const raw = r.optional("EMBEDDED_ANN_MIN_ROWS");
  if (raw !== undefined && ["off", "0"].includes(raw.trim().toLowerCase())) return null;
  return r.int("EMBEDDED_ANN_MIN_ROWS", DEFAULT_ANN_MIN_ROWS, 1, 1_000_000_000);
}

export function loadConfig(env: Env = process.env): Config {
  const r = new EnvReader(env);
  const mode = r.oneOf<Mode>("MEMORY_MODE", "embedded", ["embedded", "production"]);
  const rerankerKind = r.oneOf("RERANKER_KIND", "bi-encoder", RERANKER_KINDS);
  const jwtSecret = r.optional("JWT_SECRET");
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    r.problems.push("JWT_SECRET must be at least 32 characters (HS256 needs a 256-bit secret)");
  }
  if (mode === "production" && jwtSecret === undefined) {
    r.problems.push("JWT_SECRET is required in production mode (every worker must share it)");
  }
  const config: Config = {
    mode,
    host: r.string("HOST", DEFAULTS.host),
    port: r.int("PORT", DEFAULTS.port, 0, 65535),
    dataDir: r.string("DATA_DIR", "./data"),
    jwtSecret,
    tokens: {
      maxAgeSeconds: r.int("JWT_MAX_AGE_SECONDS", 30 * 86_400, 60, 10 * 365 * 86_400),
      clockSkewSeconds: r.int("JWT_CLOCK_SKEW_SECONDS", 60, 0, 3600),
      issuer: r.optional("JWT_ISSUER"),
      audience: r.optional("JWT_AUDIENCE"),
      revocationRefreshMs: r.int("JWT_REVOCATION_REFRESH_MS", 250, 50, 1000),
    },
    cacheTtlSeconds: r.int("CACHE_TTL_SECONDS", 300, 0, 86_400),
    cacheMaxEntries: r.int("CACHE_MAX_ENTRIES", 10_000, 0, 10_000_000),
    cacheMaxBytes: r.int("CACHE_MAX_BYTES", 64 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024 * 1024),
    cacheMaxEntryBytes: r.int("CACHE_MAX_ENTRY_BYTES", 1024 * 1024, 1024, 1024 * 1024 * 1024),
    embeddedSearchThreads: r.int("EMBEDDED_SEARCH_THREADS", Math.min(availableParallelism(), 8), 0, 64),
    embeddedAnnMinRows: annMinRows(r),
    cachePolicy: {
      hotTtlSeconds: r.int("CACHE_HOT_TTL_SECONDS", 900, 0, 86_400),
      hotThreshold: r.int("CACHE_HOT_THRESHOLD", 5, 1, 1_000_000),
      popularityHalfLifeSeconds: r.int("CACHE_POPULARITY_HALF_LIFE_SECONDS", 600, 1, 30 * 86_400),
      prewarmTop: r.int("CACHE_PREWARM_TOP", 20, 0, 1000),
      prewarmCollectionsAtStart: r.int("CACHE_PREWARM_COLLECTIONS", 10, 0, 10_000),
      l1MaxEntries: r.int("CACHE_L1_MAX_ENTRIES", 10_000, 0, 10_000_000),
      rollForward: r.bool("CACHE_ROLL_FORWARD", true)
        ? {
            margin: r.int("CACHE_ROLL_MARGIN", 10, 1, 1000),
            maxChanges: r.int("CACHE_ROLL_MAX_CHANGES", 1000, 1, 100_000),
          }
        : null,
    },
    maxBodyBytes: r.int("MAX_BODY_BYTES", 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    requestTimeoutMs: r.int("REQUEST_TIMEOUT_MS", 30_000, 100, 3_600_000),
    idempotencyRetentionSeconds: r.int("IDEMPOTENCY_RETENTION_SECONDS", 86_400, 1, 30 * 86_400),
    logLevel: r.oneOf("LOG_LEVEL", "info", ["debug", "info", "warn", "error", "silent"] as const),
    accessLog: r.bool("ACCESS_LOG", false),
    embedding: {
      modelDir: r.string("EMBEDDING_MODEL_DIR", "models/all-minilm-l6-v2"),
      maxBatch: r.int("EMBED_MAX_BATCH", 32, 1, 1024),
      maxQueue: r.int("EMBED_MAX_QUEUE", 4096, 1, 1_000_000),
      queryCacheSize: r.int("QUERY_EMBED_CACHE_SIZE", 10_000, 0, 10_000_000),
      threads: r.int("EMBED_THREADS", 1, 1, 64),
      // one process alone (the embedded default, not under `bun run cluster`) embeds on every
      // core; a cluster already runs one process per core
      workers: r.int("EMBED_WORKERS", mode === "embedded" && env.WORKER_INDEX === undefined ? Math.min(availableParallelism(), 4) : 1, 1, 64),
      batchInvariant: r.bool("EMBED_BATCH_INVARIANT", false),
    },
    cluster: {
      workers: r.int("CLUSTER_WORKERS", 0, 0, 256),
      basePort: r.int("CLUSTER_BASE_PORT", DEFAULTS.clusterBasePort, 1, 65_000),
    },
    reranker: {
      // what premium searches rescore with: a larger embedding model (RERANKER_BI_ENCODER_DIR)
      // comparing the query with each candidate, or the cross-encoder of RERANKER_MODEL_DIR;
      // chosen on the quality eval (docs/quality.md, Premium rerank)
      kind: rerankerKind,
      modelDir: r.string("RERANKER_MODEL_DIR", "models/reranker"),
      biEncoderDir: r.string("RERANKER_BI_ENCODER_DIR", "models/e5-small-v2"),
      candidates: r.int("RERANK_CANDIDATES", RERANK_DEFAULTS[rerankerKind].candidates, 1, 1000),
      maxQueue: r.int("RERANK_MAX_QUEUE", 64, 1, 100_000),
      maxBatchPairs: r.int("RERANK_MAX_BATCH_PAIRS", 32, 1, 4096),
      maxLength: r.int("RERANK_MAX_LENGTH", 128, 8, 512),
      // as the embedder: one process alone uses two cores, a cluster runs one process per core
      biEncoderWorkers: r.int("RERANK_BI_ENCODER_WORKERS", mode === "embedded" && env.WORKER_INDEX === undefined ? Math.min(availableParallelism(), 2) : 1, 1, 64),
      maxWaitMs: r.int("RERANK_MAX_WAIT_MS", 1000, 1, 600_000),
      idleScheduling: r.bool("RERANK_IDLE_SCHEDULING", true),
      nice: r.int("RERANK_NICE", 10, 0, 19),
      // cores - 1: idle-class threads that fill every core still slow the others down
      cpuSlots: r.int("RERANK_CPU_SLOTS", Math.max(1, availableParallelism() - 1), 0, 1024),
      cpuSlotsDir: r.string("RERANK_CPU_SLOTS_DIR", join(tmpdir(), "memory-api-cpu-slots")),
      contendedDuty: r.number("RERANK_CONTENDED_DUTY", 0.1, 0.01, 1),
      interpolationWeight: r.number("RERANK_INTERPOLATION_WEIGHT", RERANK_DEFAULTS[rerankerKind].interpolationWeight, 0, 1),
      interpolationRankK: r.number("RERANK_INTERPOLATION_K", RERANK_DEFAULTS[rerankerKind].interpolationRankK, 0, 10_000),
    },
    rateLimits: r.bool("RATE_LIMITS_ENABLED", true)
      ? {
          free: r.int("RATE_LIMIT_FREE", 100, 1, 100_000_000),
          starter: r.int("RATE_LIMIT_STARTER", 1_000, 1, 100_000_000),
          pro: r.int("RATE_LIMIT_PRO", 10_000, 1, 100_000_000),
          enterprise: r.int("RATE_LIMIT_ENTERPRISE", 100_000, 1, 100_000_000),
        }
      : null,
    rateLimitLeases: {
      maxUnits: r.int("RATE_LIMIT_LEASE_UNITS", 1_000, 1, 100_000),
      leaseMs: r.int("RATE_LIMIT_LEASE_MS", 1000, 10, 60_000),
    },
    cost: {
      graphSearchUnits: r.int("COST_GRAPH_SEARCH_UNITS", 5, 1, 1000),
      bytesPerUnit: r.int("COST_BYTES_PER_UNIT", 16_384, 1024, 100 * 1024 * 1024),
    },
    tierLimits: r.bool("QUOTAS_ENABLED", true)
      ? (Object.fromEntries(
          (["free", "starter", "pro", "enterprise"] as const).map((tier) => {
            const d = DEFAULT_TIER_LIMITS[tier];
            const name = (what: string) => `QUOTA_${tier.toUpperCase()}_${what}`;
            return [
              tier,
              {
                collections: r.int(name("COLLECTIONS"), d.collections, 1, 10_000_000),
                memories: r.int(name("MEMORIES"), d.memories, 1, 10_000_000_000),
                bytes: r.int(name("BYTES"), d.bytes, 1024, 1024 ** 5),
                writeMemoriesInFlight: r.int(`WRITE_CONCURRENCY_${tier.toUpperCase()}`, d.writeMemoriesInFlight, 1, 1_000_000),
              },
            ];
          }),
        ) as Record<"free" | "starter" | "pro" | "enterprise", TierLimits>)
      : null,
    search: {
      hybridCandidates: r.int("HYBRID_CANDIDATES", 50, 1, 1000),
      // tuned on the dev split of bench/data (docs/quality.md)
      hybridRrfK: r.number("HYBRID_RRF_K", DEFAULT_HYBRID_FUSION.rrfK, 0, 10_000),
      hybridSemanticWeight: r.number("HYBRID_SEMANTIC_WEIGHT", DEFAULT_HYBRID_FUSION.semanticWeight, 0, 100),
      hybridKeywordWeight: r.number("HYBRID_KEYWORD_WEIGHT", DEFAULT_HYBRID_FUSION.keywordWeight, 0, 100),
    },
    graphExtraction: r.oneOf("GRAPH_EXTRACTION", "auto", ["auto", "off"] as const),
    history: {
      retentionDays: r.int("HISTORY_RETENTION_DAYS", 30, 0, 36_500),
      pruneIntervalSeconds: r.int("HISTORY_PRUNE_INTERVAL_SECONDS", 3600, 1, 86_400),
    },
    expiry: {
      sweepIntervalSeconds: r.int("EXPIRY_SWEEP_INTERVAL_SECONDS", 10, 0, 86_400),
    },
    webhooks: {
      // a local server (embedded) delivers to local receivers; a deployed one refuses by default
      privateTargets: r.oneOf("WEBHOOK_PRIVATE_TARGETS", mode === "production" ? "deny" : "allow", ["allow", "deny"] as const),
      allowedHosts: hostList(r.optional("WEBHOOK_ALLOWED_HOSTS")),
      timeoutMs: r.int("WEBHOOK_TIMEOUT_MS", 10_000, 100, 120_000),
      pollMs: r.int("WEBHOOK_POLL_MS", 1000, 10, 60_000),
      batchSize: r.int("WEBHOOK_BATCH_SIZE", 100, 1, 1000),
      maxAttempts: r.int("WEBHOOK_MAX_ATTEMPTS", 20, 1, 1000),
      retryBaseMs: r.int("WEBHOOK_RETRY_BASE_MS", 5000, 10, 3_600_000),
      retryMaxMs: r.int("WEBHOOK_RETRY_MAX_MS", 3_600_000, 10, 86_400_000),
      deliveryRetentionDays: r.int("WEBHOOK_DELIVERY_RETENTION_DAYS", 7, 0, 36_500),
    },
    production: {
      databaseUrl: r.url("DATABASE_URL", serviceUrls.postgres(DEFAULTS.host, DEFAULTS.postgres), [
        "postgres:",
        "postgresql:",
      ]),
      pgPoolSize: r.int("PG_POOL_SIZE", 50, 1, 1000),
      databaseReplicaUrls: postgresUrlList(r, "DATABASE_REPLICA_URLS"),
      pgReplicaPoolSize: r.int("PG_REPLICA_POOL_SIZE", 10, 1, 1000),
      redisUrl: r.url("REDIS_URL", serviceUrls.redis(DEFAULTS.host, DEFAULTS.redis.port), ["redis:", "rediss:"]),
      redis: redisTopology(r, r.optional("REDIS_URL") ?? serviceUrls.redis(DEFAULTS.host, DEFAULTS.redis.port)),
      milvusAddress: r.string("MILVUS_ADDRESS", serviceUrls.milvus(DEFAULTS.host, DEFAULTS.milvus.port)),
      milvusReplicas: r.int("MILVUS_REPLICAS", 1, 1, 64),
      milvusGracefulTimeMs: r.int("MILVUS_GRACEFUL_TIME_MS", 5000, 0, 3_600_000),
      neo4jUri: r.url("NEO4J_URI", serviceUrls.neo4j(DEFAULTS.host, DEFAULTS.neo4j.port), ["bolt:", "neo4j:", "bolt+s:", "neo4j+s:"]),
      neo4jUser: r.optional("NEO4J_USER"),
      neo4jPassword: r.optional("NEO4J_PASSWORD"),
      neo4jPoolSize: r.int("NEO4J_POOL_SIZE", 50, 1, 1000),
      keywordTermDocs: r.int("KEYWORD_TERM_DOCS", 1000, 0, 10_000_000),
      freshTail: r.bool("FRESH_TAIL", true),
      freshTailMaxRows: r.int("FRESH_TAIL_MAX_ROWS", 2000, 1, 100_000),
      graphDeferred: r.bool("GRAPH_DEFERRED", true),
    },
  };
  const production = config.production;
  if (production.milvusReplicas > 1 && !production.freshTail) {
    r.problems.push(
      `MILVUS_REPLICAS=${production.milvusReplicas} needs FRESH_TAIL=true: a write confirmed on one replica may be missing on another, and only the fresh tail covers it`,
    );
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

/** `url`: REDIS_URL, validated where it is read. */
function redisTopology(r: EnvReader, url: string): RedisTopology {
  const nodes = hostPortList(r, "REDIS_CLUSTER_NODES");
  const sentinels = hostPortList(r, "REDIS_SENTINELS");
  const master = r.optional("REDIS_SENTINEL_MASTER");
  if (nodes && sentinels) r.problems.push("REDIS_CLUSTER_NODES and REDIS_SENTINELS exclude each other: set one (or neither, for one server at REDIS_URL)");
  if (nodes) return { kind: "cluster", url, nodes };
  if (sentinels) {
    if (master === undefined) r.problems.push("REDIS_SENTINELS needs REDIS_SENTINEL_MASTER: the name the Sentinels monitor the master under");
    return { kind: "sentinel", url, sentinels, master: master ?? "", sentinelPassword: r.optional("REDIS_SENTINEL_PASSWORD") };
  }
  if (master !== undefined) r.problems.push("REDIS_SENTINEL_MASTER is set but REDIS_SENTINELS is not: name the Sentinels (host:port, comma-separated)");
  return { kind: "single", url };
}

/** `host:port,host:port` (IPv6 hosts in brackets); unset or empty = undefined. */
function hostPortList(r: EnvReader, name: string): HostPort[] | undefined {
  const items = (r.optional(name) ?? "").split(",").map((item) => item.trim()).filter((item) => item !== "");
  if (items.length === 0) return undefined;
  const out: HostPort[] = [];
  for (const item of items) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:\[\]\s]+):(\d{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      r.problems.push(`${name}: "${item}" is not host:port`);
      continue;
    }
    out.push({ host: match[1]!.replace(/^\[|\]$/g, ""), port });
  }
  return out;
}

/** Comma-separated postgres:// URLs; unset or empty = none. Each must parse (named by position, password redacted). */
function postgresUrlList(r: EnvReader, name: string): string[] {
  const urls = (r.optional(name) ?? "").split(",").map((u) => u.trim()).filter((u) => u !== "");
  urls.forEach((url, i) => {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      r.problems.push(`${name}: item ${i + 1} is not a valid URL: "${redactCredentials(url)}"`);
      return;
    }
    if (protocol !== "postgres:" && protocol !== "postgresql:") r.problems.push(`${name}: item ${i + 1} must use postgres: or postgresql:, got "${protocol}"`);
  });
  return urls;
}

/** `WEBHOOK_ALLOWED_HOSTS`: comma-separated host names, lower-cased; unset or empty = no list. */
function hostList(raw: string | undefined): string[] | null {
  const hosts = (raw ?? "").split(",").map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
  return hosts.length > 0 ? hosts : null;
}
