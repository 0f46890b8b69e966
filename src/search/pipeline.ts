import type {
  CollectionStore,
  Embedder,
  Hit,
  Memory,
  MemoryStore,
  Reranker,
  SearchCache,
  SearchFilter,
  VectorIndex,
} from "../stores/ports";
import type { Principal } from "../auth/claims";
import { isPremium } from "../auth/claims";
import type { Logger } from "../log";
import { ProblemError, notFound } from "../http/problem";
import { searchCacheKey } from "./cache-key";
import { parseFilters } from "./filters";
import { reciprocalRankFusion } from "./fusion";
import { SingleFlight } from "./single-flight";

export const SEARCH_TYPES = ["semantic", "keyword", "hybrid"] as const;
export type SearchType = (typeof SEARCH_TYPES)[number];

export interface SearchRequest {
  query: string;
  collection_id: string;
  top_k: number;
  search_type: SearchType;
  filters?: unknown;
  rerank: boolean;
}

export interface SearchResult {
  id: string;
  content: string;
  metadata: Memory["metadata"];
  score: number;
  created_at: string;
}

export interface SearchPipelineDeps {
  collections: CollectionStore;
  memories: MemoryStore;
  vectors: VectorIndex;
  cache: SearchCache;
  embedder: Embedder;
  reranker?: Reranker;
  log: Logger;
  cacheTtlSeconds: number;
  hybridCandidates: number;
}

export interface SearchOutcome {
  /**
   * The answer as JSON text without `cached` and `took_ms`, which vary per response:
   * `{"results":[...],"search_type":...}`. Cached as-is, so a hit costs no JSON work.
   */
  body: string;
  cached: boolean;
}

export interface SearchStats {
  hits: number;
  misses: number;
  sharedMisses: number;
  cacheErrors: number;
}

/** Splices the per-response fields into a stored answer. */
export function renderAnswer(outcome: SearchOutcome, tookMs: number): string {
  return `{"cached":${outcome.cached},"took_ms":${Math.round(tookMs * 1000) / 1000},${outcome.body.slice(1)}`;
}

export function createSearchPipeline(deps: SearchPipelineDeps) {
  const flights = new SingleFlight<string>();
  const stats: SearchStats = { hits: 0, misses: 0, sharedMisses: 0, cacheErrors: 0 };

  // A dead cache is a bypass, counted; logged at most every 10 s so an outage at full load
  // does not turn into a flood of log lines.
  let lastCacheWarning = 0;
  let unloggedCacheErrors = 0;
  const cacheCall = async <T>(what: string, call: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      stats.cacheErrors++;
      unloggedCacheErrors++;
      const now = Date.now();
      if (now - lastCacheWarning >= 10_000) {
        deps.log.warn("search cache unavailable, bypassing it", {
          op: what,
          error: String(error),
          errors_since_last_warning: unloggedCacheErrors,
        });
        lastCacheWarning = now;
        unloggedCacheErrors = 0;
      }
      return fallback;
    }
  };

  async function retrieve(request: SearchRequest, filter: SearchFilter): Promise<Hit[]> {
    const { collection_id: cid, query, top_k: k } = request;
    switch (request.search_type) {
      case "semantic": {
        const [vector] = await deps.embedder.embed([query], "query");
        return deps.vectors.search(cid, vector!, k, filter);
      }
      case "keyword":
        return deps.memories.keywordSearch(cid, query, k, filter);
      case "hybrid": {
        const pool = Math.max(k, deps.hybridCandidates);
        const [vector] = await deps.embedder.embed([query], "query");
        const [semantic, keyword] = await Promise.all([
          deps.vectors.search(cid, vector!, pool, filter),
          deps.memories.keywordSearch(cid, query, pool, filter, { minTermsMatched: 2 }),
        ]);
        return reciprocalRankFusion([semantic, keyword], k);
      }
    }
  }

  async function compute(principal: Principal, request: SearchRequest, filter: SearchFilter): Promise<string> {
    const collection = await deps.collections.get(principal.userId, request.collection_id);
    if (!collection) throw notFound("collection");
    const hits = await retrieve(request, filter);
    const memories = await deps.memories.hydrate(
      request.collection_id,
      hits.map((h) => h.id),
    );
    const byId = new Map(memories.map((m) => [m.id, m]));
    const results: SearchResult[] = [];
    for (const hit of hits) {
      const memory = byId.get(hit.id);
      // A hit the source of truth no longer has (deleted meanwhile) is never returned.
      if (!memory) continue;
      results.push({
        id: memory.id,
        content: memory.content,
        metadata: memory.metadata,
        score: hit.score,
        created_at: memory.created_at,
      });
    }
    const answer: Record<string, unknown> = {
      results,
      search_type: request.search_type,
      top_k: request.top_k,
      reranked: false,
    };
    if (request.rerank) answer.rerank_reason = "reranker_not_configured";
    return JSON.stringify(answer);
  }

  return {
    stats,
    async search(principal: Principal, request: SearchRequest): Promise<SearchOutcome> {
      const filter = parseFilters(request.filters);
      if (request.rerank && !isPremium(principal.tier)) {
        throw new ProblemError(
          403,
          "premium_required",
          `reranking needs a premium plan (pro or enterprise); this token's tier is ${principal.tier}`,
        );
      }
      const generation = await cacheCall("generation", () => deps.cache.generation(request.collection_id), -1);
      const key =
        generation < 0
          ? null
          : searchCacheKey(
              {
                user: principal.userId,
                query: request.query,
                collection_id: request.collection_id,
                search_type: request.search_type,
                filters: request.filters ?? null,
                top_k: request.top_k,
                rerank: request.rerank,
              },
              generation,
            );
      if (key) {
        const hit = await cacheCall("get", () => deps.cache.get(key), null);
        if (hit !== null) {
          stats.hits++;
          return { body: hit, cached: true };
        }
      }
      stats.misses++;
      const flightKey = key ?? `nocache:${principal.userId}:${JSON.stringify(request)}`;
      const { promise, shared } = flights.run(flightKey, async () => {
        const body = await compute(principal, request, filter);
        if (key && deps.cacheTtlSeconds > 0) {
          await cacheCall("set", () => deps.cache.set(key, body, deps.cacheTtlSeconds), undefined);
        }
        return body;
      });
      if (shared) stats.sharedMisses++;
      return { body: await promise, cached: false };
    },
  };
}

export type SearchPipeline = ReturnType<typeof createSearchPipeline>;
