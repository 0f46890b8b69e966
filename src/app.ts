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
import type { MemoryWriteRouteDeps } from "./routes/memory-writes";
import { bulkDeleteRoutes } from "./routes/bulk-delete";
import { historyRoutes } from "./routes/history";
import { exportRoutes } from "./routes/export";
import { importRoutes } from "./routes/import";
import type { MemoryHistoryStore } from "./ports/memory-history";
import { searchRoutes } from "./routes/search";
import { graphRoutes } from "./routes/graph";
import type { ExtractionMode } from "./graph/extract";
import { createSearchPipeline, type HybridFusion, type RollForwardPolicy } from "./search/pipeline";
import type { ChangeFeed } from "./ports/change-feed";
import { ChangeWindows } from "./search/change-windows";
import { PendingGenerations } from "./search/pending-generations";
import { createMetrics, type Metrics } from "./metrics/metrics";
import { httpMetricsPlugin } from "./metrics/http";
import { metricsRoutes } from "./routes/metrics";
import type { Tier } from "./auth/claims";
import { PopularityTracker, type CacheLifetimes } from "./search/popularity";
import { apiDocs } from "./http/openapi";
import { requestTimeoutPlugin } from "./http/timeout";
import { MCP_PATH, mcpRoutes } from "./mcp/route";
import type { IdempotencyPolicy } from "./http/idempotency";
import type { IdempotencyStore } from "./ports/idempotency-store";
import { modelKeyOf } from "./domain/embedding-model";
import pkg from "../package.json";
import { CostPolicy } from "./http/cost";
import { SpentBudgets, earlyRejectionPlugin, rememberingLimiter } from "./http/early-rejection";
import type { TierLimits } from "./config";
import type { TenantUsage } from "./ports/tenant-usage";
import type { WebhookStore } from "./ports/webhook-store";
import type { TargetPolicy } from "./webhooks/target";
import { sendDelivery } from "./webhooks/sender";
import { webhookRoutes } from "./routes/webhooks";

/** Everything the app needs, built by the caller (index.ts, or a test). */
export interface AppDeps {
  tokens: TokenService;
  /** API keys (/v1/keys, and `Bearer mapi_...` wherever a JWT is accepted); absent: neither. */
  apiKeys?: ApiKeyStore;
  collections: CollectionStore;
  memories: MemoryStore;
  /** The memories' change log (GET …/memories/:id/history); absent: no history route. */
  history?: MemoryHistoryStore;
  vectors: VectorIndex;
  /** The knowledge graph (search_type "graph", /entities); absent: neither is available. */
  graph?: GraphStore;
  cache: SearchCache;
  embedder: Embedder;
  reranker?: Reranker;
  healthChecks: HealthCheck[];
  /** Per-user budgets by tier; absent = not limited. */
  rateLimit?: RateLimitPolicy;
  /** Quotas and write concurrency by tier, counted from `usage`; absent = none. */
  tierLimits?: Record<Tier, TierLimits>;
  usage?: TenantUsage;
  /** Search popularity counters: TTL by popularity and pre-warming; absent = one TTL, no pre-warming. */
  popularity?: SearchPopularity;
  /** Webhooks of collections (…/webhooks routes); their delivery runs beside the app (src/webhooks/dispatcher.ts). Absent: no routes. */
  webhooks?: { store: WebhookStore; policy: TargetPolicy; timeoutMs: number };
  /** The change log read with vectors: cached semantic answers roll forward after writes (with `settings.rollForward`). */
  changeFeed?: ChangeFeed;
  /** Idempotency keys of the create routes; absent = the `Idempotency-Key` header is ignored. */
  idempotency?: IdempotencyStore;
  log: Logger;
  /** Milliseconds clock of expiry (ttl_seconds, cached answers); default Date.now. Tests inject one. */
  clock?: () => number;
  /** This instance's metrics, with the runtime's stores registered; default: a fresh registry. */
  metrics?: Metrics;
  settings: {
    cacheTtlSeconds: number;
    hybridCandidates: number;
    /** Hybrid fusion constant and weights; default RRF k 60, both weights 1. */
    hybrid?: HybridFusion;
    maxBodyBytes: number;
    /** A request unanswered after this long is a 503 with Retry-After; default 30 s. */
    requestTimeoutMs?: number;
    /** How long a completed request's answer is kept for retries with its Idempotency-Key; default 24 h. */
    idempotencyRetentionSeconds?: number;
    /** Candidates a premium search reranks, at least top_k; default DEFAULT_RERANK_CANDIDATES (10). */
    rerankCandidates?: number;
    /** One log line per request (ACCESS_LOG); default off. */
    accessLog?: boolean;
    /** With `popularity`: TTL of popular answers and the askings that make one popular. */
    cacheHot?: Pick<CacheLifetimes, "hotTtlSeconds" | "hotThreshold">;
    /** With `popularity`: popular searches recomputed after a write (0 = off). */
    prewarmTop?: number;
    /** With `changeFeed`: roll cached semantic answers forward (margin beyond top_k, most changes at once); absent = off. */
    rollForward?: RollForwardPolicy;
    /** Entity extraction from memory text at write time (GRAPH_EXTRACTION); default auto. */
    graphExtraction?: ExtractionMode;
    /** Memories a page of GET …/export reads (one checkpoint line each); default 500. */
    exportPageSize?: number;
    /** Memories a batch of POST …/import writes (one progress line each); default 100. */
    importBatchSize?: number;
    /** Rate-limit units of a graph search and bytes per extra unit of a memory (src/http/cost.ts). */
    cost?: { graphSearchUnits: number; bytesPerUnit: number };
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
    hybrid: deps.settings.hybrid,
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
    // one window per worker on the change log, shared by every search's roll-forward
    changeFeed: deps.changeFeed && new ChangeWindows(deps.changeFeed),
    rollForward: deps.settings.rollForward,
    now: deps.clock,
  });

  // A write is acknowledged once durable; if the cache cannot record the new generation, the
  // cache (not the write) is what must give way: the bump is retried until it lands, and
  // meanwhile this collection's searches bypass the cache.
  const bumpGeneration = (collectionId: string) => pendingGenerations.bump(collectionId);

  const metrics = deps.metrics ?? createMetrics();
  metrics.setSources({ search: () => pipeline.stats });
  const spent = new SpentBudgets();
  const rateLimit = deps.rateLimit && {
    ...deps.rateLimit,
    limiter: rememberingLimiter(deps.rateLimit.limiter, spent),
    onRejected: (tier: Tier) => {
      metrics.rateLimitRejected(tier);
      deps.rateLimit?.onRejected?.(tier);
    },
  };

  const credentials = deps.apiKeys ? withApiKeys(deps.tokens, deps.apiKeys, deps.log) : undefined;
  const auth = authPlugin(credentials?.tokens ?? deps.tokens, rateLimit);
  const idempotency: IdempotencyPolicy | undefined = deps.idempotency && {
    store: deps.idempotency,
    retentionSeconds: deps.settings.idempotencyRetentionSeconds ?? 86_400,
    // a request goes on after its timeout answer: its claim outlives that by a margin
    lockSeconds: Math.max(60, Math.ceil((2 * (deps.settings.requestTimeoutMs ?? 30_000)) / 1000)),
  };
  const cost = new CostPolicy({
    rateLimit,
    tierLimits: deps.tierLimits,
    usage: deps.usage,
    graphSearchUnits: deps.settings.cost?.graphSearchUnits,
    bytesPerUnit: deps.settings.cost?.bytesPerUnit,
  });

  const memoryWrites: MemoryWriteRouteDeps = {
    auth,
    collections: deps.collections,
    memories: deps.memories,
    embedder: deps.embedder,
    vectors: deps.vectors,
    bumpGeneration,
    graphExtraction: deps.settings.graphExtraction,
    cost,
    now: deps.clock,
  };
  // normalize: false makes Elysia reject unknown fields (422) instead of silently dropping
  // them, and keeps arrays from being coerced into objects.
  const app = new Elysia({ normalize: false })
    .use(httpMetricsPlugin({ metrics, log: deps.log, accessLog: deps.settings.accessLog ?? false }))
    .use(errorsPlugin({ log: deps.log, maxBodyBytes: deps.settings.maxBodyBytes }))
    .use(earlyRejectionPlugin(deps.tokens, spent, { onRejected: rateLimit?.onRejected, freePaths: [MCP_PATH] }))
    .use(requestTimeoutPlugin(deps.settings.requestTimeoutMs ?? 30_000))
    .use(healthRoutes({ checks: deps.healthChecks, log: deps.log }))
    .use(metricsRoutes({ metrics }))
    .use(collectionRoutes({ auth, collections: deps.collections, bumpGeneration, idempotency, cost, embeddingModel: modelKeyOf(deps.embedder) }))
    .use(memoryRoutes({ ...memoryWrites, idempotency }))
    .use(bulkDeleteRoutes({ auth, collections: deps.collections, memories: deps.memories, bumpGeneration, cost }))
    .use(exportRoutes({ auth, collections: deps.collections, memories: deps.memories, log: deps.log, pageSize: deps.settings.exportPageSize }))
    .use(importRoutes({ ...memoryWrites, log: deps.log, batchSize: deps.settings.importBatchSize }))
    .use(
      deps.history
        ? historyRoutes({ auth, collections: deps.collections, memories: deps.memories, history: deps.history })
        : new Elysia({ name: "history-routes" }),
    )
    .use(
      deps.webhooks
        ? webhookRoutes({
            auth,
            collections: deps.collections,
            webhooks: deps.webhooks.store,
            policy: deps.webhooks.policy,
            send: (request) => sendDelivery(request, { policy: deps.webhooks!.policy, timeoutMs: deps.webhooks!.timeoutMs }),
          })
        : new Elysia({ name: "webhook-routes" }),
    )
    .use(graphRoutes({ auth, collections: deps.collections, memories: deps.memories, graph: deps.graph }))
    .use(searchRoutes({ auth, pipeline, cost }))
    .use(keyRoutes({ auth, keys: deps.apiKeys, collections: deps.collections, onRevoked: (id) => credentials?.keys.forget(id) }))
    // MCP over Streamable HTTP: its tools call this app's own routes with the caller's token, and
    // those calls spend the rate-limit budget; the MCP messages themselves are only authenticated.
    .use(mcpRoutes({ auth: authPlugin(credentials?.tokens ?? deps.tokens), handle: (request: Request): Promise<Response> => app.handle(request) }))
    .use(apiDocs({ title: "Memory API", version: pkg.version }));
  return Object.assign(app, { pipeline, metrics });
}

export type App = ReturnType<typeof buildApp>;
