import { EmbeddingModelMismatchError, NotFoundError, InvalidInputError, PremiumRequiredError, QueueFullError } from "../domain/errors";
import { assertCanSearchByMeaning, modelKeyOf } from "../domain/embedding-model";
import type { Memory } from "../domain/memory";
import { DEFAULT_RERANK_CANDIDATES, type Hit, type SearchFilter } from "../domain/search";
import type { CollectionStore } from "../ports/collection-store";
import type { Embedder } from "../ports/embedder";
import type { GraphStore } from "../ports/graph-store";
import type { MemoryStore } from "../ports/memory-store";
import type { Reranker } from "../ports/reranker";
import type { SearchCache } from "../ports/search-cache";
import type { VectorIndex } from "../ports/vector-index";
import type { Principal } from "../auth/claims";
import { isPremium } from "../auth/claims";
import type { Logger } from "../log";
import { cacheKeyFor, rollKeyFor, searchDescriptor } from "./cache-key";
import type { PopularityTracker } from "./popularity";
import { Prewarmer } from "./prewarm";
import type { PendingGenerations } from "./pending-generations";
import { parseFilters } from "./filters/parse";
import { SingleFlight } from "./single-flight";
import { liveAnswer, ttlUntil, withExpiry } from "./expiring-answer";
import { graphRetriever } from "./retrievers/graph";
import { type HybridFusion, hybridRetriever } from "./retrievers/hybrid";
import { keywordRetriever } from "./retrievers/keyword";
import type { Retriever } from "./retrievers/retriever";
import { semanticRetriever } from "./retrievers/semantic";
import type { SearchRequest, SearchResult, SearchType } from "./request";
import type { ChangeFeed } from "../ports/change-feed";
import { earliestExpiry, freshState, parseRollState, resultOf, rollForward, type RollState } from "./roll-forward";

export type { HybridFusion };

export interface SearchPipelineDeps {
  collections: CollectionStore;
  memories: MemoryStore;
  vectors: VectorIndex;
  /** The knowledge graph (search_type "graph"); absent: graph search answers 422. */
  graph?: GraphStore;
  cache: SearchCache;
  embedder: Embedder;
  reranker?: Reranker;
  log: Logger;
  cacheTtlSeconds: number;
  hybridCandidates: number;
  /** Hybrid fusion: RRF constant and the weight of each side (see config.ts `search`); default k 60, weights 1. */
  hybrid?: HybridFusion;
  /** Candidates a premium search reranks, at least top_k; default DEFAULT_RERANK_CANDIDATES. */
  rerankCandidates?: number;
  /** Popularity-based TTLs (instead of `cacheTtlSeconds` for every answer) and pre-warming. */
  popularity?: PopularityTracker;
  /** Popular searches recomputed per collection after a write; 0 or unset = off. */
  prewarmTop?: number;
  /** Collections whose last write has not yet bumped the cache generation: their searches bypass the cache. */
  pendingGenerations?: Pick<PendingGenerations, "has">;
  /** Milliseconds clock that memory expiry is judged by (cached answers); default Date.now. */
  now?: () => number;
  /**
   * The change log, read to bring cached semantic answers up to date after writes instead of
   * computing them again (roll-forward.ts); absent: a write makes every cached answer a miss.
   */
  changeFeed?: ChangeFeed;
  /** Roll-forward: candidates kept beyond top_k, and the most log entries applied at once. */
  rollForward?: RollForwardPolicy;
}

export interface RollForwardPolicy {
  margin: number;
  maxChanges: number;
}

/** Longest search descriptor counted for popularity (a query of 4,096 characters and ordinary filters fit). */
export const MAX_COUNTED_DESCRIPTOR_CHARS = 8192;

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
  reranked: number;
  rerankFallbacks: number;
  /** Semantic answers brought up to date from the change log (counted in neither hits nor misses' computations). */
  rolledForward: number;
  /** Roll-forwards given up for a computation: too many changes, margin spent, expiry, another model. */
  rollRecomputed: number;
}

/** Splices the per-response fields into a stored answer. */
export function renderAnswer(outcome: SearchOutcome, tookMs: number): string {
  return `{"cached":${outcome.cached},"took_ms":${Math.round(tookMs * 1000) / 1000},${outcome.body.slice(1)}`;
}

/**
 * The results scoring at least `minScore` (all of them when it is absent), and how many did not.
 * Results come best first, so this keeps a prefix: the top_k best that pass.
 */
export function aboveMinScore(results: SearchResult[], minScore: number | undefined): { kept: SearchResult[]; below: number } {
  if (minScore === undefined) return { kept: results, below: 0 };
  const kept = results.filter((r) => r.score >= minScore);
  return { kept, below: results.length - kept.length };
}

export function createSearchPipeline(deps: SearchPipelineDeps) {
  const flights = new SingleFlight<SearchOutcome>();
  const stats: SearchStats = { hits: 0, misses: 0, sharedMisses: 0, cacheErrors: 0, reranked: 0, rerankFallbacks: 0, rolledForward: 0, rollRecomputed: 0 };
  const rerankPool = (topK: number) => deps.rerankCandidates ?? DEFAULT_RERANK_CANDIDATES;
  const { embedder, vectors, memories } = deps;
  const now = deps.now ?? Date.now;
  const embeddingModel = modelKeyOf(embedder);
  const retrievers: Record<SearchType, Retriever> = {
    semantic: semanticRetriever({ embedder, vectors }),
    keyword: keywordRetriever({ memories }),
    hybrid: hybridRetriever({ embedder, vectors, memories, candidates: deps.hybridCandidates, fusion: deps.hybrid }),
    graph: deps.graph
      ? graphRetriever({ graph: deps.graph, vectors, memories, embedder, semanticPool: deps.hybridCandidates })
      : () => Promise.reject(new InvalidInputError("search_type", "graph search is not available on this server")),
  };

  // Background recomputation of popular searches after a write. Reranked searches are not
  // pre-warmed: they would take the premium tier's inference capacity for guesses.
  const prewarmer = new Prewarmer({
    popularity: deps.popularity?.store,
    top: deps.prewarmTop ?? 0,
    log: deps.log,
    async warm(collectionId, descriptor) {
      let d: { user: string; query: string; search_type: SearchType; filters: SearchRequest["filters"] | null; top_k: number; rerank: boolean; min_score?: number };
      try {
        d = JSON.parse(descriptor) as typeof d;
      } catch {
        return "skipped"; // not one of ours (another writer of the counters)
      }
      if (d.rerank) return "skipped";
      const principal: Principal = { userId: d.user, tier: "free", exp: Number.POSITIVE_INFINITY };
      try {
        await api.search(
          principal,
          { query: d.query, collection_id: collectionId, search_type: d.search_type, filters: d.filters ?? undefined, top_k: d.top_k, rerank: false, min_score: d.min_score },
          "prewarm",
        );
      } catch (error) {
        if (error instanceof NotFoundError) return "gone";
        if (error instanceof EmbeddingModelMismatchError) return "skipped";
        throw error;
      }
      return "warmed";
    },
  });

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

  /** Reorders hits by the cross-encoder, or says why it cannot right now. */
  async function rerank(query: string, hits: Hit[], byId: Map<string, Memory>): Promise<Hit[] | string> {
    if (!deps.reranker) return "reranker_not_configured";
    const candidates = hits.filter((h) => byId.has(h.id));
    try {
      const scores = await deps.reranker.score(
        query,
        candidates.map((h) => byId.get(h.id)!.content),
      );
      return candidates
        .map((h, i) => ({ id: h.id, score: scores[i]! }))
        .sort((a, b) => b.score - a.score);
    } catch (error) {
      if (error instanceof QueueFullError) return "reranker_busy";
      deps.log.error("reranker failed; answering unreranked", { error });
      return "reranker_error";
    }
  }

  /** The answer's JSON text: `top` (the best top_k, best first) less those below min_score. */
  function answerBody(request: SearchRequest, top: SearchResult[], reranked: boolean, rerankReason?: string): string {
    const { kept, below } = aboveMinScore(top, request.min_score);
    const answer: Record<string, unknown> = {
      results: kept,
      search_type: request.search_type,
      top_k: request.top_k,
      reranked,
    };
    if (rerankReason) answer.rerank_reason = rerankReason;
    if (request.min_score !== undefined) answer.below_min_score = below;
    return JSON.stringify(answer);
  }

  interface Computed {
    body: string;
    /** Whether it may be cached (a degraded answer may not). */
    cacheable: boolean;
    expiresAtMs: number | null;
    /** With `rollable`: the state that brings this answer forward after writes. */
    rollState?: RollState;
  }

  /**
   * The answer, computed. `rollable`: a semantic search whose answer is kept for roll-forward:
   * it retrieves a margin beyond top_k and notes the change-log position read before retrieving
   * (so every change after it is applied later; one already seen is applied again, harmlessly).
   */
  async function compute(principal: Principal, request: SearchRequest, filter: SearchFilter, rollable: boolean): Promise<Computed> {
    const headRead = rollable ? deps.changeFeed!.head(request.collection_id).catch(() => null) : null;
    const collection = await deps.collections.get(principal.userId, request.collection_id);
    if (!collection) throw new NotFoundError("collection");
    // Keyword search reads no vector: it works whatever model embedded the collection.
    if (request.search_type !== "keyword") assertCanSearchByMeaning(collection, embeddingModel);
    const k = request.rerank
      ? Math.max(request.top_k, rerankPool(request.top_k))
      : rollable
        ? request.top_k + deps.rollForward!.margin
        : request.top_k;
    let queryVector: Float32Array | undefined;
    let head: number | null = null;
    // A rollable (semantic) search keeps its query vector for the roll-forward state, embedded once.
    const retrieve = async (n: number) => {
      if (rollable && queryVector === undefined) {
        queryVector = (await embedder.embed([request.query], "query"))[0]!;
        head = await headRead;
      }
      return retrievers[request.search_type]({ collectionId: request.collection_id, query: request.query, k: n, filter, queryVector });
    };
    // the head read for roll-forward, on the source of truth after this request arrived: what
    // hydration must reflect, so a store routing it to a replica need not read the head again
    const known = () => (head === null ? undefined : { changeHead: head });
    let requested = k;
    let hits = await retrieve(k);
    let memories = await deps.memories.hydrate(request.collection_id, hits.map((h) => h.id), known());
    // Hydration drops what the source of truth no longer shows: deleted meanwhile, or expired
    // and not yet purged from the index. When that leaves the answer short, ask once for as
    // many more as were dropped.
    const dropped = hits.length - memories.length;
    if (dropped > 0 && hits.length >= k && memories.length < request.top_k) {
      requested = k + dropped;
      hits = await retrieve(requested);
      memories = await deps.memories.hydrate(request.collection_id, hits.map((h) => h.id), known());
    }
    const paths = new Map(hits.flatMap((h) => (h.path ? [[h.id, h.path] as const] : [])));
    const byId = new Map(memories.map((m) => [m.id, m]));
    let reranked = false;
    let rerankReason: string | undefined;
    if (request.rerank) {
      const outcome = await rerank(request.query, hits, byId);
      if (typeof outcome === "string") {
        rerankReason = outcome;
        stats.rerankFallbacks++;
      } else {
        hits = outcome;
        reranked = true;
        stats.reranked++;
      }
    }
    // A hit the source of truth no longer has (deleted meanwhile) is never returned.
    const ranked: SearchResult[] = [];
    for (const hit of hits) {
      const memory = byId.get(hit.id);
      if (memory) ranked.push(resultOf(memory, hit.score, paths.get(hit.id)));
    }
    const top = ranked.slice(0, request.top_k);
    const computed: Computed = {
      body: answerBody(request, top, reranked, rerankReason),
      cacheable: rerankReason === undefined,
      expiresAtMs: earliestExpiry(top),
    };
    if (rollable && head !== null && queryVector !== undefined) {
      computed.rollState = freshState({
        seq: head,
        vector: queryVector,
        size: k,
        ranked,
        exhaustive: hits.length < requested,
        lowestIndexScore: hits.at(-1)?.score ?? null,
      });
    }
    return computed;
  }

  /**
   * The answer cached for this search at an earlier change-log position, brought up to date
   * from the changes since; null when there is none or it cannot be done exactly.
   */
  async function rollForwardAnswer(principal: Principal, request: SearchRequest, filter: SearchFilter, rollKey: string): Promise<Computed | null> {
    const raw = await cacheCall("get", () => deps.cache.get(rollKey), null);
    const state = raw === null ? null : parseRollState(raw);
    if (state === null) return null;
    const [collection, changes] = await Promise.all([
      deps.collections.get(principal.userId, request.collection_id),
      deps.changeFeed!.changedSince(request.collection_id, state.seq, deps.rollForward!.maxChanges),
    ]);
    if (!collection) throw new NotFoundError("collection");
    assertCanSearchByMeaning(collection, embeddingModel);
    const next = changes === null ? null : rollForward(state, changes, filter, request.top_k, now(), embeddingModel);
    if (next === null || typeof next === "string") {
      stats.rollRecomputed++;
      return null;
    }
    const top = next.candidates.slice(0, request.top_k);
    return { body: answerBody(request, top, false), cacheable: true, expiresAtMs: earliestExpiry(top), rollState: next.seq === state.seq ? undefined : next };
  }

  const api = {
    stats,
    prewarmer,
    /**
     * `origin: "prewarm"` is the background recomputation of a popular search: not counted as
     * an asking, nor in the hit/miss statistics.
     */
    async search(principal: Principal, request: SearchRequest, origin: "client" | "prewarm" = "client"): Promise<SearchOutcome> {
      const filter = parseFilters(request.filters);
      if (!request.rerank && origin === "client") deps.reranker?.noteForegroundWork?.();
      if (request.rerank && !isPremium(principal.tier)) {
        throw new PremiumRequiredError("reranking", principal.tier);
      }
      const generation = deps.pendingGenerations?.has(request.collection_id)
        ? -1
        : await cacheCall("generation", () => deps.cache.generation(request.collection_id), -1);
      const descriptor = searchDescriptor({
        user: principal.userId,
        query: request.query,
        collection_id: request.collection_id,
        search_type: request.search_type,
        filters: request.filters ?? null,
        top_k: request.top_k,
        rerank: request.rerank,
        min_score: request.min_score,
      });
      const client = origin === "client";
      // An asking is counted once the caller is known to own the collection (a hit: its key
      // holds the user, and only an owned computation is stored under it; a miss: once
      // computed), and only when its descriptor is small: the counters are shared with every
      // tenant and drive what pre-warming replays.
      const countable = client && deps.popularity !== undefined && descriptor.length <= MAX_COUNTED_DESCRIPTOR_CHARS;
      const count = () => countable && deps.popularity!.note(request.collection_id, descriptor);
      const key =
        generation < 0
          ? null
          : cacheKeyFor(request.collection_id, descriptor, generation, request.search_type === "keyword" ? undefined : embeddingModel);
      if (key) {
        const value = await cacheCall("get", () => deps.cache.get(key), null);
        // An answer one of whose memories has expired since is a miss (expiring-answer.ts).
        const hit = value === null ? null : liveAnswer(value, now());
        if (hit !== null) {
          if (client) stats.hits++;
          count();
          return { body: hit, cached: true };
        }
      }
      if (client) stats.misses++;
      const flightKey = key ?? `nocache:${principal.userId}:${JSON.stringify(request)}`;
      // Semantic answers are kept with what brings them forward after writes (roll-forward.ts).
      const rollKey =
        key !== null && deps.changeFeed && deps.rollForward && request.search_type === "semantic" && !request.rerank
          ? rollKeyFor(request.collection_id, descriptor, embeddingModel)
          : null;
      const { promise, shared } = flights.run(flightKey, async () => {
        const rolled = rollKey ? await rollForwardAnswer(principal, request, filter, rollKey) : null;
        const answer = rolled ?? (await compute(principal, request, filter, rollKey !== null));
        if (rolled && client) stats.rolledForward++;
        count(); // before the TTL is chosen: this asking may be the one that makes the search popular
        const policyTtl = deps.popularity ? deps.popularity.ttlFor(request.collection_id, descriptor) : deps.cacheTtlSeconds;
        if (key && answer.cacheable && policyTtl > 0) {
          const at = now();
          const stores = [deps.cache.set(key, withExpiry(answer.body, answer.expiresAtMs), ttlUntil(policyTtl, answer.expiresAtMs, at))];
          if (rollKey && answer.rollState) {
            stores.push(deps.cache.set(rollKey, JSON.stringify(answer.rollState), ttlUntil(policyTtl, answer.rollState.expiresAtMs, at)));
          }
          await cacheCall("set", () => Promise.all(stores), undefined);
        }
        return { body: answer.body, cached: rolled !== null };
      });
      if (shared && client) stats.sharedMisses++;
      const outcome = await promise;
      if (shared) count(); // the computation was another asking's: this one is counted now it succeeded
      return outcome;
    },
  };
  return api;
}

export type SearchPipeline = ReturnType<typeof createSearchPipeline>;
