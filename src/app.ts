import { Elysia } from "elysia";
import type { CollectionStore } from "./ports/collection-store";
import type { Embedder } from "./ports/embedder";
import type { GraphStore } from "./ports/graph-store";
import type { HealthCheck } from "./ports/health-check";
import type { MemoryStore } from "./ports/memory-store";
import type { Reranker } from "./ports/reranker";
import type { SearchCache } from "./ports/search-cache";
import type { SearchPopularity } from "./ports/search-popularity";
import type { VectorIndex } from "./ports/vector-index";
import type { TokenService } from "./auth/tokens";
import type { ApiKeyStore } from "./ports/api-key-store";
import { withApiKeys } from "./auth/credentials";
import { keyRoutes } from "./routes/keys";
import { authPlugin, type RateLimitPolicy } from "./auth/plugin";
import type { Logger } from "./log";
import { errorsPlugin } from "./http/errors";
import { healthRoutes } from "./routes/health";
import { collectionRoutes } from "./routes/collections";
import { memoryRoutes } from "./routes/memories";
import { searchRoutes } from "./routes/search";
import { graphRoutes } from "./routes/graph";
import type { ExtractionMode } from "./graph/extract";
import { createSearchPipeline } from "./search/pipeline";
import { PendingGenerations } from "./search/pending-generations";
import { createMetrics, type Metrics } from "./metrics/metrics";
import { httpMetricsPlugin } from "./metrics/http";
import { metricsRoutes } from "./routes/metrics";
import type { Tier } from "./auth/claims";
import { PopularityTracker, type CacheLifetimes } from "./search/popularity";
import { apiDocs } from "./http/openapi";
import { requestTimeoutPlugin } from "./http/timeout";
import { mcpRoutes } from "./mcp/route";
import { modelKeyOf } from "./domain/embedding-model";
import pkg from "../package.json";

/** Everything the app needs, built by the caller (index.ts, or a test). */
export interface AppDeps {
  tokens: TokenService;
  /** API keys (/v1/keys, and `Bearer mapi_...` wherever a JWT is accepted); absent: neither. */
  apiKeys?: ApiKeyStore;
  collections: CollectionStore;
  memories: MemoryStore;
  vectors: VectorIndex;
  /** The knowledge graph (search_type "graph", /entities); absent: neither is available. */
  graph?: GraphStore;
  cache: SearchCache;
  embedder: Embedder;
  reranker?: Reranker;
  healthChecks: HealthCheck[];
  /** Per-user budgets by tier; absent = not limited. */
  rateLimit?: RateLimitPolicy;
  /** Search popularity counters: TTL by popularity and pre-warming; absent = one TTL, no pre-warming. */
  popularity?: SearchPopularity;
  log: Logger;
  /** This instance's metrics, with the runtime's stores registered; default: a fresh registry. */
  metrics?: Metrics;
  settings: {
    cacheTtlSeconds: number;
    hybridCandidates: number;
    maxBodyBytes: number;
    /** A request unanswered after this long is a 503 with Retry-After; default 30 s. */
    requestTimeoutMs?: number;
    /** Fixed number of candidates to rerank; default max(5 × top_k, 50). */
    rerankCandidates?: number;
    /** One log line per request (ACCESS_LOG); default off. */
    accessLog?: boolean;
    /** With `popularity`: TTL of popular answers and the askings that make one popular. */
    cacheHot?: Pick<CacheLifetimes, "hotTtlSeconds" | "hotThreshold">;
    /** With `popularity`: popular searches recomputed after a write (0 = off). */
    prewarmTop?: number;
    /** Entity extraction from memory text at write time (GRAPH_EXTRACTION); default auto. */
    graphExtraction?: ExtractionMode;
  };
}

export function buildApp(deps: AppDeps) {
  const pendingGenerations = new PendingGenerations({
    cache: deps.cache,
    log: deps.log,
    onBumped: (collectionId) => pipeline.prewarmer.afterWrite(collectionId),
  });
  const pipeline = createSearchPipeline({
    pendingGenerations,
    collections: deps.collections,
    memories: deps.memories,
    vectors: deps.vectors,
    graph: deps.graph,
    cache: deps.cache,
    embedder: deps.embedder,
    reranker: deps.reranker,
    log: deps.log,
    cacheTtlSeconds: deps.settings.cacheTtlSeconds,
    hybridCandidates: deps.settings.hybridCandidates,
    rerankCandidates: deps.settings.rerankCandidates,
    popularity: deps.popularity
      ? new PopularityTracker({
          store: deps.popularity,
          log: deps.log,
          coldTtlSeconds: deps.settings.cacheTtlSeconds,
          hotTtlSeconds: deps.settings.cacheHot?.hotTtlSeconds ?? deps.settings.cacheTtlSeconds,
          hotThreshold: deps.settings.cacheHot?.hotThreshold ?? Number.POSITIVE_INFINITY,
        })
      : undefined,
    prewarmTop: deps.settings.prewarmTop,
  });

  // A write is acknowledged once durable; if the cache cannot record the new generation, the
  // cache (not the write) is what must give way: the bump is retried until it lands, and
  // meanwhile this collection's searches bypass the cache.
  const bumpGeneration = (collectionId: string) => pendingGenerations.bump(collectionId);

  const metrics = deps.metrics ?? createMetrics();
  metrics.setSources({ search: () => pipeline.stats });
  const rateLimit = deps.rateLimit && {
    ...deps.rateLimit,
    onRejected: (tier: Tier) => {
      metrics.rateLimitRejected(tier);
      deps.rateLimit?.onRejected?.(tier);
    },
  };

  const credentials = deps.apiKeys ? withApiKeys(deps.tokens, deps.apiKeys, deps.log) : undefined;
  const auth = authPlugin(credentials?.tokens ?? deps.tokens, rateLimit);

  // normalize: false makes Elysia reject unknown fields (422) instead of silently dropping
  // them, and keeps arrays from being coerced into objects.
  const app = new Elysia({ normalize: false })
    .use(httpMetricsPlugin({ metrics, log: deps.log, accessLog: deps.settings.accessLog ?? false }))
    .use(errorsPlugin({ log: deps.log, maxBodyBytes: deps.settings.maxBodyBytes }))
    .use(requestTimeoutPlugin(deps.settings.requestTimeoutMs ?? 30_000))
    .use(healthRoutes({ checks: deps.healthChecks }))
    .use(metricsRoutes({ metrics }))
    .use(collectionRoutes({ auth, collections: deps.collections, bumpGeneration, embeddingModel: modelKeyOf(deps.embedder) }))
    .use(
      memoryRoutes({
        auth,
        collections: deps.collections,
        memories: deps.memories,
        embedder: deps.embedder,
        bumpGeneration,
        graphExtraction: deps.settings.graphExtraction,
      }),
    )
    .use(graphRoutes({ auth, collections: deps.collections, memories: deps.memories, graph: deps.graph }))
    .use(searchRoutes({ auth, pipeline }))
    .use(keyRoutes({ auth, keys: deps.apiKeys, collections: deps.collections, onRevoked: (id) => credentials?.keys.forget(id) }))
    // MCP over Streamable HTTP: its tools call this app's own routes with the caller's token, and
    // those calls spend the rate-limit budget; the MCP messages themselves are only authenticated.
    .use(mcpRoutes({ auth: authPlugin(credentials?.tokens ?? deps.tokens), handle: (request: Request): Promise<Response> => app.handle(request) }))
    .use(apiDocs({ title: "Memory API", version: pkg.version }));
  return Object.assign(app, { pipeline, metrics });
}

export type App = ReturnType<typeof buildApp>;
