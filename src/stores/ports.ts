/**
 * The ports: every store and model the HTTP layer and the search pipeline use.
 * Adapters (embedded SQLite, Postgres, Redis, Milvus, Neo4j, ONNX) implement these;
 * nothing above this file imports a driver.
 */

export type Scalar = string | number | boolean;
export type Metadata = Record<string, unknown>;

export interface Collection {
  id: string;
  owner: string;
  name: string;
  description: string | null;
  created_at: string; // ISO-8601
}

export interface Memory {
  id: string;
  collection_id: string;
  content: string;
  metadata: Metadata;
  created_at: string; // ISO-8601
  updated_at: string; // ISO-8601
}

/** A memory to write. `embedding` is the normalised document embedding of `content`. */
export interface MemoryWrite {
  id: string;
  content: string;
  metadata: Metadata;
  embedding: Float32Array;
}

export interface MemoryPatch {
  content?: string;
  metadata?: Metadata;
  /** Present exactly when `content` is. */
  embedding?: Float32Array;
}

/** One condition on a top-level metadata key. */
export type MetadataCondition =
  | { key: string; op: "eq"; value: Scalar }
  | { key: string; op: "in"; values: Scalar[] }
  | { key: string; op: "range"; gte?: Scalar; lte?: Scalar };

/** A validated filter; stores apply it inside their query so `k` results come back when that many match. */
export interface SearchFilter {
  metadata: MetadataCondition[];
  createdAfter?: string; // ISO-8601, exclusive
  createdBefore?: string; // ISO-8601, exclusive
}

/** A retrieval hit before hydration; higher score is better. */
export interface Hit {
  id: string;
  score: number;
}

export interface KeywordOptions {
  minTermsMatched?: 1 | 2;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface CollectionStore {
  create(owner: string, input: { name: string; description: string | null }): Promise<Collection>;
  list(owner: string): Promise<Collection[]>;
  /** The collection if it exists AND belongs to `owner`, else null. */
  get(owner: string, id: string): Promise<Collection | null>;
  /** Deletes the collection and all its memories; false if not the owner's. */
  delete(owner: string, id: string): Promise<boolean>;
}

/** Thrown by CollectionStore.create when the owner already has a collection of that name. */
export class DuplicateNameError extends Error {
  constructor(readonly collectionName: string) {
    super(`a collection named "${collectionName}" already exists`);
  }
}

/** Thrown by MemoryStore.list when a cursor was not produced by this store. */
export class InvalidCursorError extends Error {
  constructor() {
    super("cursor is not valid");
  }
}

/**
 * The source of truth for memories. A write resolves only once it is durable; the adapter
 * is responsible for getting it into its vector index (same transaction, or an outbox).
 */
export interface MemoryStore {
  /** Inserts or replaces (by id, within the collection) all of `items` atomically. */
  upsert(collectionId: string, items: MemoryWrite[]): Promise<void>;
  get(collectionId: string, id: string): Promise<Memory | null>;
  /** Insertion order; `cursor` is opaque and comes from a previous page. */
  list(collectionId: string, opts: { limit: number; cursor?: string }): Promise<Page<Memory>>;
  patch(collectionId: string, id: string, patch: MemoryPatch): Promise<Memory | null>;
  delete(collectionId: string, id: string): Promise<boolean>;
  /**
   * Full-text (BM25-like) search; `query` is raw user text, the adapter makes it safe and never
   * throws on it. English stopwords are ignored and words are stemmed. By default a memory
   * matching any query word is a hit; `minTermsMatched: 2` (used by hybrid search) requires
   * two distinct query words when the query has two or more, which keeps incidental one-word
   * matches out of the fusion.
   */
  keywordSearch(
    collectionId: string,
    query: string,
    k: number,
    filter: SearchFilter,
    opts?: KeywordOptions,
  ): Promise<Hit[]>;
  /** The memories with these ids, in the order given; missing ids are skipped. */
  hydrate(collectionId: string, ids: string[]): Promise<Memory[]>;
}

/** Nearest-neighbour search over memory embeddings (cosine similarity as score). */
export interface VectorIndex {
  search(collectionId: string, vector: Float32Array, k: number, filter: SearchFilter): Promise<Hit[]>;
}

/**
 * The search cache. Values are serialised answers. Generations make read-your-writes cheap:
 * every write bumps its collection's generation and cache keys include it.
 */
export interface SearchCache {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  generation(collectionId: string): Promise<number>;
  bumpGeneration(collectionId: string): Promise<number>;
}

export interface Embedder {
  readonly model: string;
  readonly dimensions: number;
  /** Unit-length embeddings, one per text, in order. Queries may get a model-specific prefix. */
  embed(texts: string[], kind: "query" | "document"): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** A dependency's state for /ready. */
export interface DependencyStatus {
  name: string;
  ready: boolean;
  /** The service degrades without it (e.g. the cache) instead of failing: /ready stays 200. */
  optional?: boolean;
  latency_ms?: number;
  detail?: string;
}

export interface HealthCheck {
  check(): Promise<DependencyStatus>;
}

/** A cross-encoder: one relevance score per (query, document) pair, higher is more relevant. */
export interface Reranker {
  readonly model: string;
  score(query: string, documents: string[]): Promise<number[]>;
  close(): Promise<void>;
}

/** Thrown by a bounded queue (embedder, reranker) that is full; the HTTP layer answers 503 + Retry-After. */
export class QueueFullError extends Error {
  constructor(readonly queue: string, readonly retryAfterSeconds = 1) {
    super(`${queue} queue is full`);
  }
}

/** A memory as a derived index (Milvus, Neo4j) receives it from the outbox. */
export interface IndexedMemory {
  collection_id: string;
  id: string;
  content: string;
  metadata: Metadata;
  embedding: Float32Array;
  created_at: string; // ISO-8601
}

/**
 * A derived index fed from the source of truth through the transactional outbox. Every method
 * is idempotent: the outbox delivers at least once, in any order of retries, and always sends
 * the memory's current state (a memory gone from the source of truth arrives as a delete).
 */
export interface IndexWriter {
  readonly name: string;
  upsert(items: IndexedMemory[]): Promise<void>;
  delete(collectionId: string, ids: string[]): Promise<void>;
  deleteCollection(collectionId: string): Promise<void>;
}

/** A dependency needed for this request is down; the HTTP layer answers 503 + Retry-After. */
export class DependencyUnavailableError extends Error {
  constructor(readonly dependency: string, readonly retryAfterSeconds = 2, cause?: unknown) {
    super(`${dependency} is unavailable`, { cause });
  }
}

/** The outcome of one rate-limited request. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the budget is full again. */
  resetSeconds: number;
  /** Seconds until the next request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
}

/**
 * A per-key budget of `limitPerMinute` requests, spent atomically (GCRA: a burst of up to the
 * whole budget, then one request every 60/limit seconds). Shared by all workers in production.
 */
export interface RateLimiter {
  consume(key: string, limitPerMinute: number): Promise<RateDecision>;
}
