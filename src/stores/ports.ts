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
  /** The memory's graph facts (knowledge graph), when it has any. */
  graph?: MemoryGraph | null;
}

/** A memory to write. `embedding` is the normalised document embedding of `content`. */
export interface MemoryWrite {
  id: string;
  content: string;
  metadata: Metadata;
  embedding: Float32Array;
  /** Graph facts, computed once at write time (client-supplied + extracted). */
  graph?: MemoryGraph;
}

export interface MemoryPatch {
  content?: string;
  metadata?: Metadata;
  /** Present exactly when `content` is. */
  embedding?: Float32Array;
  /** Replaces the memory's graph facts when present. */
  graph?: MemoryGraph;
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
  /** Graph search: the entity path that led to the memory (entity, RELATION, entity, ...). */
  path?: string[];
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

/** Thrown by MemoryStore.upsert when the collection does not exist (deleted while the write was on its way). */
export class CollectionNotFoundError extends Error {
  constructor(readonly collectionId: string) {
    super(`collection ${collectionId} does not exist`);
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
  /**
   * Inserts or replaces (by id, within the collection) all of `items` atomically; a collection
   * that does not exist is a CollectionNotFoundError.
   */
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

/** A search as the popularity counter knows it, and how often it was asked lately. */
export interface PopularSearch {
  /** The canonical JSON of what determines the answer (see search/cache-key.ts). */
  descriptor: string;
  /** Askings, exponentially decayed (a half-life ago counts half). */
  score: number;
}

/**
 * How often each search of a collection is asked: an exponentially decaying counter per search,
 * shared by every worker in production. It decides cache lifetimes (popular answers live longer)
 * and which searches are recomputed in the background after a write.
 */
export interface SearchPopularity {
  /** Adds `counts` askings per descriptor; answers each one's decayed score after the addition. */
  record(collectionId: string, counts: Map<string, number>): Promise<Map<string, number>>;
  /** The `n` most asked searches of a collection, most popular first. */
  top(collectionId: string, n: number): Promise<PopularSearch[]>;
  /** The `n` collections searched most lately, most first. */
  topCollections(n: number): Promise<string[]>;
  /** Forgets a collection (it was deleted). */
  forget(collectionId: string): Promise<void>;
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
  /**
   * Latency-sensitive work has started (a search that is not reranked): reranking, which only
   * uses spare CPU, yields to it. Cheap enough to call on every request.
   */
  noteForegroundWork?(): void;
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
  /** The memory's graph facts (absent or null: none). */
  graph?: GraphFacts | null;
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

// ---------------------------------------------------------------------------------------------
// Knowledge graph

/** Entities and relations a client supplies with a memory (names as written). */
export interface GraphInput {
  entities?: { name: string; type?: string }[];
  relations?: { source: string; relation: string; target: string }[];
}

/** An entity of a memory: `name` is the normal form (the key within a collection). */
export interface FactEntity {
  name: string;
  /** The name as first written. */
  display: string;
  type: string;
}

/** A relation between two entities of the same memory, by normal-form names. */
export interface FactRelation {
  source: string;
  /** Upper-case label, e.g. LIVES_IN. */
  relation: string;
  target: string;
}

export interface GraphFacts {
  entities: FactEntity[];
  relations: FactRelation[];
}

/** What the source of truth stores with a memory: the facts, and what the client supplied. */
export interface MemoryGraph extends GraphFacts {
  supplied?: GraphInput;
}

export interface EntityInfo {
  name: string;
  display: string;
  type: string;
  /** Memories that mention it. */
  mentions: number;
}

/** One traversed edge: RELATED (its label; `reverse` when walked target → source) or CO_OCCURS. */
export interface GraphStep {
  relation: string;
  reverse: boolean;
  /** RELATED: memories stating it; CO_OCCURS: memories mentioning both. */
  weight: number;
}

/** A walk from a seed entity: nodes[0] is the seed, steps[i] leads from nodes[i] to nodes[i + 1]. */
export interface GraphPath {
  nodes: string[];
  steps: GraphStep[];
}

export interface Neighbour {
  name: string;
  display: string;
  type: string;
  relation: string;
  /** out: entity -[relation]-> neighbour; in: the reverse; CO_OCCURS edges are "both". */
  direction: "out" | "in" | "both";
  weight: number;
}

export const GRAPH_CO_OCCURS = "CO_OCCURS";

/**
 * The knowledge graph of each collection, read side. Writes reach it with the memories (the
 * embedded store writes the graph tables in the memory's transaction; in production the outbox
 * feeds the Neo4j writer). Names given here are normal forms (see src/graph/normalise.ts); every
 * value is data, matched literally.
 */
export interface GraphStore {
  /** The entities of the collection whose names are among `names`. */
  findEntities(collectionId: string, names: string[]): Promise<EntityInfo[]>;
  /**
   * Every walk of 1..maxHops edges from the seeds, never revisiting an entity; at each entity
   * only its `fanout` heaviest edges are followed (ties: neighbour name, relation, direction).
   * At most `limit` paths.
   */
  expand(collectionId: string, seeds: string[], opts: { maxHops: 1 | 2; fanout: number; limit: number }): Promise<GraphPath[]>;
  /** Which memories mention which of `names`, at most `perEntity` memories each (newest first). */
  mentions(collectionId: string, names: string[], perEntity: number): Promise<{ entity: string; memory_id: string }[]>;
  /** Entities by name; `q` keeps names containing it (normal form). */
  listEntities(collectionId: string, opts: { q?: string; limit: number; cursor?: string }): Promise<Page<EntityInfo>>;
  /** The entity's edges, heaviest first. */
  neighbours(collectionId: string, name: string, limit: number): Promise<Neighbour[]>;
}
