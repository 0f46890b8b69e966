/**
 * What the runtimes call where they wire adapters: each port wrapped with call timing (latency
 * histogram + error counter by dependency and operation), and the live objects (pool, outbox,
 * queues) registered for scrape-time reading. Operation labels name the port method, so the
 * label set is fixed by the code, never by input.
 */
import type { CollectionStore } from "../ports/collection-store";
import type { IndexWriter } from "../ports/index-writer";
import type { MemoryStore } from "../ports/memory-store";
import type { RateLimiter } from "../ports/rate-limiter";
import type { SearchCache } from "../ports/search-cache";
import type { VectorIndex } from "../ports/vector-index";
import { instrumentCalls } from "./instrument";
import type { EmbedderFigures, Metrics, PoolFigures, ReadFigures, RerankerFigures } from "./metrics";

type Timing = Pick<Metrics, "dependency">;

export const timedCollections = (metrics: Timing, dependency: string, store: CollectionStore): CollectionStore =>
  instrumentCalls(store, metrics, dependency, {
    create: "collections.create",
    list: "collections.list",
    get: "collections.get",
    update: "collections.update",
    delete: "collections.delete",
  });

export const timedMemories = (metrics: Timing, dependency: string, store: MemoryStore): MemoryStore =>
  instrumentCalls(store, metrics, dependency, {
    upsert: "memories.upsert",
    get: "memories.get",
    list: "memories.list",
    patch: "memories.patch",
    delete: "memories.delete",
    deleteMany: "memories.delete_many",
    keywordSearch: "memories.keyword_search",
    hydrate: "memories.hydrate",
    matchingIds: "memories.matching_ids",
  });

export const timedVectors = (metrics: Timing, dependency: string, index: VectorIndex): VectorIndex =>
  instrumentCalls(index, metrics, dependency, { search: "vectors.search" });

export const timedCache = (metrics: Timing, dependency: string, cache: SearchCache): SearchCache =>
  instrumentCalls(cache, metrics, dependency, {
    get: "cache.get",
    set: "cache.set",
    generation: "cache.generation",
    bumpGeneration: "cache.bump_generation",
  });

/** An outbox target: the dependency is the writer's name (milvus, neo4j). */
export const timedWriter = (metrics: Timing, writer: IndexWriter): IndexWriter =>
  instrumentCalls(writer, metrics, writer.name, {
    upsert: "writer.upsert",
    delete: "writer.delete",
    deleteCollection: "writer.delete_collection",
  });

/** The shared limiter's calls (it falls back per worker on failure, so errors show as fallbacks). */
export const timedRateLimiter = (metrics: Timing, dependency: string, limiter: RateLimiter): RateLimiter =>
  instrumentCalls(limiter, metrics, dependency, { consume: "rate_limit.consume" });

export interface WatchedObjects {
  embedder?: { stats(): EmbedderFigures };
  embedderQueueLimit?: number;
  reranker?: { stats(): RerankerFigures };
  rerankerQueueLimit?: number;
  postgres?: { poolStats(): PoolFigures; readStats(): ReadFigures[]; outbox: { backlog(): Promise<Record<string, number>>; deadLetters(): Promise<Record<string, number>> } };
  rateLimiter?: { stats: { fallbacks: number } };
}

/** Registers the live objects whose figures are read when /metrics is scraped. */
export function watch(metrics: Pick<Metrics, "setSources">, objects: WatchedObjects): void {
  const { embedder, reranker, postgres, rateLimiter } = objects;
  metrics.setSources({
    ...(embedder && { embedder: () => embedder.stats() }),
    ...(objects.embedderQueueLimit !== undefined && { embedderQueueLimit: objects.embedderQueueLimit }),
    ...(reranker && { reranker: () => reranker.stats() }),
    ...(objects.rerankerQueueLimit !== undefined && { rerankerQueueLimit: objects.rerankerQueueLimit }),
    ...(postgres && { pgPool: () => postgres.poolStats(), pgReads: () => postgres.readStats(), outboxBacklog: () => postgres.outbox.backlog(), outboxDeadLetters: () => postgres.outbox.deadLetters() }),
    ...(rateLimiter && { rateLimitFallbacks: () => rateLimiter.stats.fallbacks }),
  });
}
