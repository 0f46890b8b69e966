import { Elysia } from "elysia";
import type {
  CollectionStore,
  Embedder,
  HealthCheck,
  MemoryStore,
  Reranker,
  SearchCache,
  VectorIndex,
} from "./stores/ports";
import type { TokenService } from "./auth/tokens";
import { authPlugin, type RateLimitPolicy } from "./auth/plugin";
import type { Logger } from "./log";
import { errorsPlugin } from "./http/errors";
import { healthRoutes } from "./routes/health";
import { collectionRoutes } from "./routes/collections";
import { memoryRoutes } from "./routes/memories";
import { searchRoutes } from "./routes/search";
import { createSearchPipeline } from "./search/pipeline";

/** Everything the app needs, built by the caller (index.ts, or a test). */
export interface AppDeps {
  tokens: TokenService;
  collections: CollectionStore;
  memories: MemoryStore;
  vectors: VectorIndex;
  cache: SearchCache;
  embedder: Embedder;
  reranker?: Reranker;
  healthChecks: HealthCheck[];
  /** Per-user budgets by tier; absent = not limited. */
  rateLimit?: RateLimitPolicy;
  log: Logger;
  settings: {
    cacheTtlSeconds: number;
    hybridCandidates: number;
    maxBodyBytes: number;
    /** Fixed number of candidates to rerank; default max(5 × top_k, 50). */
    rerankCandidates?: number;
  };
}

export function buildApp(deps: AppDeps) {
  const pipeline = createSearchPipeline({
    collections: deps.collections,
    memories: deps.memories,
    vectors: deps.vectors,
    cache: deps.cache,
    embedder: deps.embedder,
    reranker: deps.reranker,
    log: deps.log,
    cacheTtlSeconds: deps.settings.cacheTtlSeconds,
    hybridCandidates: deps.settings.hybridCandidates,
    rerankCandidates: deps.settings.rerankCandidates,
  });

  // A write is acknowledged once durable; if the cache cannot record the new generation, the
  // cache (not the write) is what must give way, so the failure is logged and the write stands.
  const bumpGeneration = async (collectionId: string) => {
    try {
      await deps.cache.bumpGeneration(collectionId);
    } catch (error) {
      deps.log.error("could not bump collection generation", { collection_id: collectionId, error });
    }
  };

  const auth = authPlugin(deps.tokens, deps.rateLimit);

  // normalize: false makes Elysia reject unknown fields (422) instead of silently dropping
  // them, and keeps arrays from being coerced into objects.
  const app = new Elysia({ normalize: false })
    .use(errorsPlugin({ log: deps.log, maxBodyBytes: deps.settings.maxBodyBytes }))
    .use(healthRoutes({ checks: deps.healthChecks }))
    .use(collectionRoutes({ auth, collections: deps.collections, bumpGeneration }))
    .use(
      memoryRoutes({
        auth,
        collections: deps.collections,
        memories: deps.memories,
        embedder: deps.embedder,
        bumpGeneration,
      }),
    )
    .use(searchRoutes({ auth, pipeline }));
  return Object.assign(app, { pipeline });
}

export type App = ReturnType<typeof buildApp>;
