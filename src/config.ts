/**
 * The one place that reads the environment. `loadConfig` is pure (it takes the env record),
 * validates every variable and throws a ConfigError naming each bad one.
 */

import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";

export type Mode = "embedded" | "production";

export interface Config {
  mode: Mode;
  host: string;
  port: number;
  dataDir: string;
  /** Unset in embedded mode means "generate one and persist it under dataDir". */
  jwtSecret: string | undefined;
  /** TTL of a cached answer to a rarely asked search. */
  cacheTtlSeconds: number;
  cacheMaxEntries: number;
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
  };
  maxBodyBytes: number;
  /** A request unanswered after this long gets a 503 with Retry-After instead of hanging. */
  requestTimeoutMs: number;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  /** One JSON line per request (method, route template, status, duration, request id). */
  accessLog: boolean;
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
    /** Token budget of one (query, memory) pair. */
    maxLength: number;
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
    return this.inRange(name, Number(raw.trim()), fallback, min, max);
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw.trim());
    if (!/^\s*-?(?:\d+\.?\d*|\.\d+)\s*$/.test(raw) || !Number.isFinite(value)) {
      this.problems.push(`${name} must be a number, got "${raw}"`);
      return fallback;
    }
    return this.inRange(name, value, fallback, min, max);
  }

  private inRange(name: string, value: number, fallback: number, min: number, max: number): number {
    if (value >= min && value <= max) return value;
    this.problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
    return fallback;
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
    cachePolicy: {
      hotTtlSeconds: r.int("CACHE_HOT_TTL_SECONDS", 900, 0, 86_400),
      hotThreshold: r.int("CACHE_HOT_THRESHOLD", 5, 1, 1_000_000),
      popularityHalfLifeSeconds: r.int("CACHE_POPULARITY_HALF_LIFE_SECONDS", 600, 1, 30 * 86_400),
      prewarmTop: r.int("CACHE_PREWARM_TOP", 20, 0, 1000),
      prewarmCollectionsAtStart: r.int("CACHE_PREWARM_COLLECTIONS", 10, 0, 10_000),
      l1MaxEntries: r.int("CACHE_L1_MAX_ENTRIES", 10_000, 0, 10_000_000),
    },
    maxBodyBytes: r.int("MAX_BODY_BYTES", 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    requestTimeoutMs: r.int("REQUEST_TIMEOUT_MS", 30_000, 100, 3_600_000),
    logLevel: r.oneOf("LOG_LEVEL", "info", ["debug", "info", "warn", "error", "silent"] as const),
    accessLog: r.bool("ACCESS_LOG", false),
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
      maxLength: r.int("RERANK_MAX_LENGTH", 128, 8, 512),
      maxWaitMs: r.int("RERANK_MAX_WAIT_MS", 1000, 1, 600_000),
      idleScheduling: r.bool("RERANK_IDLE_SCHEDULING", true),
      nice: r.int("RERANK_NICE", 10, 0, 19),
      // cores - 1: idle-class threads that fill every core still slow the others down
      cpuSlots: r.int("RERANK_CPU_SLOTS", Math.max(1, availableParallelism() - 1), 0, 1024),
      cpuSlotsDir: r.string("RERANK_CPU_SLOTS_DIR", join(tmpdir(), "memory-api-cpu-slots")),
      contendedDuty: r.number("RERANK_CONTENDED_DUTY", 0.1, 0.01, 1),
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
    graphExtraction: r.oneOf("GRAPH_EXTRACTION", "auto", ["auto", "off"] as const),
    history: {
      retentionDays: r.int("HISTORY_RETENTION_DAYS", 30, 0, 36_500),
      pruneIntervalSeconds: r.int("HISTORY_PRUNE_INTERVAL_SECONDS", 3600, 1, 86_400),
    },
    expiry: {
      sweepIntervalSeconds: r.int("EXPIRY_SWEEP_INTERVAL_SECONDS", 10, 0, 86_400),
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

// ---------------------------------------------------------------------------------------------
// Integrations: separate programs that are clients of the API over HTTP (src/integrations/).
// Their settings are read here too, so every variable of the project is validated in one place.

export interface NotionImportConfig {
  memoryApiUrl: string;
  memoryApiToken: string;
  /** Required only for `--api`. */
  notionToken: string | undefined;
  /** Notion's API unless set (the tests point it at a local server of recorded answers). */
  notionApiUrl: string | undefined;
  notionRequestsPerSecond: number;
  notionMaxRetries: number;
  chunkChars: number;
  batchSize: number;
}

export function loadNotionImportConfig(env: Env = process.env, opts: { api: boolean } = { api: false }): NotionImportConfig {
  const r = new Reader(env);
  const memoryApiToken = r.optional("MEMORY_API_TOKEN");
  if (memoryApiToken === undefined) r.problems.push("MEMORY_API_TOKEN is required (mint one with `bun run token -- --sub USER`)");
  const notionToken = r.optional("NOTION_TOKEN");
  if (opts.api && notionToken === undefined) r.problems.push("NOTION_TOKEN is required with --api (the integration's secret from notion.so/my-integrations)");
  const notionApiUrl = r.optional("NOTION_API_URL");
  const config: NotionImportConfig = {
    memoryApiUrl: r.url("MEMORY_API_URL", "http://127.0.0.1:8000", ["http:", "https:"]),
    memoryApiToken: memoryApiToken ?? "",
    notionToken,
    notionApiUrl: notionApiUrl === undefined ? undefined : r.url("NOTION_API_URL", notionApiUrl, ["http:", "https:"]),
    notionRequestsPerSecond: r.int("NOTION_REQUESTS_PER_SECOND", 3, 1, 100),
    notionMaxRetries: r.int("NOTION_MAX_RETRIES", 5, 0, 20),
    chunkChars: r.int("NOTION_CHUNK_CHARS", 1000, 200, 20_000),
    batchSize: r.int("NOTION_BATCH_SIZE", 1000, 1, 1000),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

export interface PoeBotConfig {
  host: string;
  port: number;
  /** The bot's access key from Poe: every request must carry it as `Authorization: Bearer`. */
  accessKey: string;
  memoryApiUrl: string;
  /** The Memory API token the bot searches with (a long-lived one: `bun run token -- --days 365`). */
  memoryToken: string;
  collectionId: string;
  topK: number;
  /** `auto` reranks when the token's tier is premium (pro, enterprise). */
  rerank: "auto" | "on" | "off";
  /** Memories less similar than this (cosine, 0..1) to the question count as not relevant. */
  minSimilarity: number;
  searchTimeoutMs: number;
  introduction: string;
  logLevel: Config["logLevel"];
}

export function loadPoeBotConfig(env: Env = process.env): PoeBotConfig {
  const r = new Reader(env);
  const required = (name: string, hint: string) => {
    const value = r.optional(name);
    if (value === undefined) r.problems.push(`${name} is required (${hint})`);
    return value ?? "";
  };
  const accessKey = required("POE_ACCESS_KEY", "the bot's access key from its page on poe.com");
  const memoryToken = required("POE_MEMORY_TOKEN", "a Memory API token: `bun run token -- --sub USER --days 365`");
  const collectionId = required("POE_COLLECTION_ID", "the id of the collection the bot answers from");
  const minSimilarityRaw = r.string("POE_MIN_SIMILARITY", "0.3");
  const minSimilarity = Number(minSimilarityRaw);
  if (!/^\d*\.?\d+$/.test(minSimilarityRaw) || minSimilarity > 1) {
    r.problems.push(`POE_MIN_SIMILARITY must be a number between 0 and 1, got "${minSimilarityRaw}"`);
  }
  const config: PoeBotConfig = {
    host: r.string("POE_BOT_HOST", "127.0.0.1"),
    port: r.int("POE_BOT_PORT", 8080, 0, 65535),
    accessKey,
    memoryApiUrl: r.url("MEMORY_API_URL", "http://127.0.0.1:8000", ["http:", "https:"]),
    memoryToken,
    collectionId,
    topK: r.int("POE_TOP_K", 3, 1, 10),
    rerank: r.oneOf("POE_RERANK", "auto", ["auto", "on", "off"] as const),
    minSimilarity,
    searchTimeoutMs: r.int("POE_SEARCH_TIMEOUT_MS", 15_000, 100, 600_000),
    introduction: r.string("POE_INTRODUCTION", "Ask me about anything stored in your memories; I answer with quotes and their sources."),
    logLevel: r.oneOf("LOG_LEVEL", "info", ["debug", "info", "warn", "error", "silent"] as const),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

/** `bun run mcp`: the MCP server on stdio, a client of the API like the other integrations. */
export interface McpStdioConfig {
  memoryApiUrl: string;
  memoryApiToken: string;
  /** Per API request a tool makes; a slower answer is a tool error. */
  timeoutMs: number;
}

export function loadMcpStdioConfig(env: Env = process.env): McpStdioConfig {
  const r = new Reader(env);
  const memoryApiToken = r.optional("MEMORY_API_TOKEN");
  if (memoryApiToken === undefined) r.problems.push("MEMORY_API_TOKEN is required (mint one with `bun run token -- --sub USER --days 30`)");
  const config: McpStdioConfig = {
    memoryApiUrl: r.url("MEMORY_API_URL", "http://127.0.0.1:8000", ["http:", "https:"]),
    memoryApiToken: memoryApiToken ?? "",
    timeoutMs: r.int("MEMORY_API_TIMEOUT_MS", 30_000, 100, 600_000),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
