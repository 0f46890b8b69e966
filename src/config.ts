/**
 * The one place that reads the environment. `loadConfig` is pure (it takes the env record),
 * validates every variable and throws a ConfigError naming each bad one.
 */

export type Mode = "embedded" | "production";

export interface Config {
  mode: Mode;
  host: string;
  port: number;
  dataDir: string;
  /** Unset in embedded mode means "generate one and persist it under dataDir". */
  jwtSecret: string | undefined;
  cacheTtlSeconds: number;
  cacheMaxEntries: number;
  maxBodyBytes: number;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  embedding: {
    modelDir: string;
    maxBatch: number;
    maxQueue: number;
    queryCacheSize: number;
    threads: number;
    /** Embed each text alone: bit-exact vectors whatever the load, at ~35% less throughput. */
    batchInvariant: boolean;
  };
  reranker: {
    /** The cross-encoder folder; reranking is off (answers say why) when it is absent. */
    modelDir: string;
    /** Candidates reranked per search; unset = max(5 × top_k, 50). */
    candidates: number | undefined;
    maxQueue: number;
    maxBatchPairs: number;
    /** Nice value of the inference thread: other tiers' requests win the CPU under contention. */
    nice: number;
  };
  cluster: {
    /** Worker processes of `bun run cluster`; 0 = one per core. */
    workers: number;
    /** The first worker's port; the others follow. */
    basePort: number;
  };
  /** Requests per minute per user, by tier; null = not limited. */
  rateLimits: Record<"free" | "starter" | "pro" | "enterprise", number> | null;
  search: {
    /** Candidates fetched per retriever before hybrid fusion (at least top_k). */
    hybridCandidates: number;
  };
  production: {
    databaseUrl: string;
    pgPoolSize: number;
    redisUrl: string;
    milvusAddress: string;
    neo4jUri: string;
    neo4jUser: string | undefined;
    neo4jPassword: string | undefined;
    neo4jPoolSize: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    return raw;
  }

  optional(name: string): string | undefined {
    const raw = this.env[name];
    return raw === undefined || raw === "" ? undefined : raw;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!/^-?\d+$/.test(raw.trim())) {
      this.problems.push(`${name} must be an integer, got "${raw}"`);
      return fallback;
    }
    const value = Number(raw.trim());
    if (value < min || value > max) {
      this.problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if (["1", "true", "yes", "on"].includes(raw.toLowerCase())) return true;
    if (["0", "false", "no", "off"].includes(raw.toLowerCase())) return false;
    this.problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(" | ")}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const value = this.string(name, fallback);
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name} must use ${protocols.join(" or ")}, got "${parsed.protocol}"`);
      }
    } catch {
      this.problems.push(`${name} is not a valid URL: "${value}"`);
    }
    return value;
  }
}

export function loadConfig(env: Env = process.env): Config {
  const r = new Reader(env);
  const mode = r.oneOf<Mode>("MEMORY_MODE", "embedded", ["embedded", "production"]);
  const jwtSecret = r.optional("JWT_SECRET");
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    r.problems.push("JWT_SECRET must be at least 32 characters (HS256 needs a 256-bit secret)");
  }
  if (mode === "production" && jwtSecret === undefined) {
    r.problems.push("JWT_SECRET is required in production mode (every worker must share it)");
  }
  const config: Config = {
    mode,
    host: r.string("HOST", "127.0.0.1"),
    port: r.int("PORT", 8000, 0, 65535),
    dataDir: r.string("DATA_DIR", "./data"),
    jwtSecret,
    cacheTtlSeconds: r.int("CACHE_TTL_SECONDS", 300, 0, 86_400),
    cacheMaxEntries: r.int("CACHE_MAX_ENTRIES", 10_000, 0, 10_000_000),
    maxBodyBytes: r.int("MAX_BODY_BYTES", 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    logLevel: r.oneOf("LOG_LEVEL", "info", ["debug", "info", "warn", "error", "silent"] as const),
    embedding: {
      modelDir: r.string("EMBEDDING_MODEL_DIR", "models/all-minilm-l6-v2"),
      maxBatch: r.int("EMBED_MAX_BATCH", 32, 1, 1024),
      maxQueue: r.int("EMBED_MAX_QUEUE", 4096, 1, 1_000_000),
      queryCacheSize: r.int("QUERY_EMBED_CACHE_SIZE", 10_000, 0, 10_000_000),
      threads: r.int("EMBED_THREADS", 1, 1, 64),
      batchInvariant: r.bool("EMBED_BATCH_INVARIANT", false),
    },
    cluster: {
      workers: r.int("CLUSTER_WORKERS", 0, 0, 256),
      basePort: r.int("CLUSTER_BASE_PORT", 8001, 1, 65_000),
    },
    reranker: {
      modelDir: r.string("RERANKER_MODEL_DIR", "models/reranker"),
      candidates: r.optional("RERANK_CANDIDATES") === undefined ? undefined : r.int("RERANK_CANDIDATES", 50, 1, 1000),
      maxQueue: r.int("RERANK_MAX_QUEUE", 64, 1, 100_000),
      maxBatchPairs: r.int("RERANK_MAX_BATCH_PAIRS", 32, 1, 4096),
      nice: r.int("RERANK_NICE", 10, 0, 19),
    },
    rateLimits: r.bool("RATE_LIMITS_ENABLED", true)
      ? {
          free: r.int("RATE_LIMIT_FREE", 100, 1, 100_000_000),
          starter: r.int("RATE_LIMIT_STARTER", 1_000, 1, 100_000_000),
          pro: r.int("RATE_LIMIT_PRO", 10_000, 1, 100_000_000),
          enterprise: r.int("RATE_LIMIT_ENTERPRISE", 100_000, 1, 100_000_000),
        }
      : null,
    search: {
      hybridCandidates: r.int("HYBRID_CANDIDATES", 50, 1, 1000),
    },
    production: {
      databaseUrl: r.url("DATABASE_URL", "postgres://memory:memory@127.0.0.1:5432/memory", [
        "postgres:",
        "postgresql:",
      ]),
      pgPoolSize: r.int("PG_POOL_SIZE", 50, 1, 1000),
      redisUrl: r.url("REDIS_URL", "redis://127.0.0.1:6379", ["redis:", "rediss:"]),
      milvusAddress: r.string("MILVUS_ADDRESS", "127.0.0.1:19530"),
      neo4jUri: r.url("NEO4J_URI", "bolt://127.0.0.1:7687", ["bolt:", "neo4j:", "bolt+s:", "neo4j+s:"]),
      neo4jUser: r.optional("NEO4J_USER"),
      neo4jPassword: r.optional("NEO4J_PASSWORD"),
      neo4jPoolSize: r.int("NEO4J_POOL_SIZE", 50, 1, 1000),
    },
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
