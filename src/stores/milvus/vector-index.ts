import type { ConsistencyLevelEnum } from "@zilliz/milvus2-sdk-node";
import type { Logger } from "../../log.ts";
import { clampCount } from "../shared/checks.ts";
import type { Hit, SearchFilter } from "../../domain/search.ts";
import type { VectorIndex } from "../../ports/vector-index.ts";
import type { MemoryStore } from "../../ports/memory-store.ts";
import { matchesFilter } from "../../search/filters/match.ts";
import { type MilvusConnection, nested } from "./connection.ts";
import { compileExpression } from "./expression.ts";
import { FIELD } from "./schema.ts";

/** Milvus' largest top-k. */
export const MAX_K = 16_384;
/** HNSW's `ef` when a short answer is searched again (knowhere accepts up to 32768). */
const MAX_EF = 4096;
/**
 * The most rows the exact fallback reads. Reading vectors back is slow through the SDK
 * (~70 ms for 100, ~270 ms for 1000 on this box), so beyond this a short answer stays short.
 */
const MAX_EXACT_ROWS = 2000;

export interface SearchOptions {
  /** HNSW candidate list size (raised to k when smaller). */
  ef: number;
  consistency: ConsistencyLevelEnum;
  /** Most query vectors sent in one search request when concurrent searches coalesce; 1 = never. */
  maxVectorsPerRequest?: number;
}

interface QueuedSearch {
  vector: Float32Array;
  resolve(results: MilvusHit[]): void;
  reject(error: unknown): void;
}

type MilvusHit = { id: string | number; score: number };

/**
 * Where the exact filter is checked when a Milvus expression can only approximate it: the source
 * of truth's memories (their metadata and timestamps).
 */
export type FilterSource = Pick<MemoryStore, "hydrate">;

/** How many more candidates each round of a checked search asks for. */
const OVERFETCH_FACTOR = 4;

/** Concurrent searches with the same expression, limit and ef, waiting to go out as one request. */
interface Group {
  expr: string;
  limit: number;
  ef: number;
  queue: QueuedSearch[];
}

/**
 * Cosine nearest neighbours of one collection's memories; score = cosine similarity (Milvus'
 * COSINE metric answers the similarity itself, higher = closer).
 *
 * The filter is one Milvus expression (expression.ts), evaluated inside the search, so
 * closer rows that fail it never crowd out the ones that pass. A filter the expression can only
 * approximate (exists, contains, updated_at) is checked on the source of truth after the search,
 * over-fetching until k pass (searchChecked). HNSW under a selective
 * expression can still stop short of k (the graph walk only counts passing nodes), so a short
 * answer is checked: if count(*) of the expression says more rows match, the search runs again
 * with a wider `ef`, then, if still short, exactly (the matching rows' vectors, scored here).
 * That check costs one count query, paid only when fewer than k hits come back.
 *
 * Recall: the hits are approximate, as HNSW's always are. Under a selective filter the
 * misses come mostly from growing (not yet sealed) segments, which Milvus 2.3 searches through
 * an "interim" IVF index probing 16 of 128 lists whatever the request's `ef`; measured recall@10
 * of a 0.5% filter there: ~0.6. The server setting queryNode.segcore.interimIndex.enableIndex:
 * false (growing segments searched exactly) fixes that; see the adapter notes.
 */
export class MilvusVectorIndex implements VectorIndex {
  private readonly groups = new Map<string, Group>();
  private flushScheduled = false;

  constructor(
    private readonly conn: MilvusConnection,
    readonly dimensions: number,
    private readonly options: SearchOptions,
    private readonly log: Logger,
    private readonly source?: FilterSource,
  ) {}

  /** This index, checking against `source` the filters a Milvus expression cannot state exactly. */
  checkingWith(source: FilterSource): MilvusVectorIndex {
    return new MilvusVectorIndex(this.conn, this.dimensions, this.options, this.log, source);
  }

  async search(collectionId: string, vector: Float32Array, k: number, filter: SearchFilter): Promise<Hit[]> {
    if (vector.length !== this.dimensions) {
      throw new RangeError(`query vector has ${vector.length} dimensions, expected ${this.dimensions}`);
    }
    const limit = clampCount(k, MAX_K);
    if (limit === 0) return [];
    const compiled = compileExpression(collectionId, filter);
    if (compiled === null) return [];
    const prefix = `${collectionId}/`;
    if (compiled.exact) return this.searchExpression(compiled.expr, prefix, vector, limit);
    return this.searchChecked(collectionId, compiled.expr, prefix, vector, limit, filter);
  }

  /**
   * A filter the expression only approximates (exists, contains, updated_at): candidates that
   * pass the expression, checked against the source of truth, asking for OVERFETCH_FACTOR times
   * more each round until `limit` pass or no more candidates exist. Exact up to MAX_K candidates.
   */
  private async searchChecked(
    collectionId: string,
    expr: string,
    prefix: string,
    vector: Float32Array,
    limit: number,
    filter: SearchFilter,
  ): Promise<Hit[]> {
    if (this.source === undefined) {
      throw new Error("this filter needs checking against the source of truth: open the index with checkingWith(memories)");
    }
    let fetch = Math.min(MAX_K, Math.max(limit * OVERFETCH_FACTOR, limit + 64));
    for (;;) {
      const hits = await this.searchExpression(expr, prefix, vector, fetch);
      const memories = await this.source.hydrate(collectionId, hits.map((h) => h.id));
      const passing = new Set(memories.filter((m) => matchesFilter(m, filter)).map((m) => m.id));
      const kept = hits.filter((h) => passing.has(h.id));
      if (kept.length >= limit || hits.length < fetch) return kept.slice(0, limit);
      if (fetch === MAX_K) {
        this.log.warn("milvus checked search came back short after the most candidates Milvus answers", { candidates: fetch, kept: kept.length });
        return kept;
      }
      fetch = Math.min(MAX_K, fetch * OVERFETCH_FACTOR);
    }
  }

  /** The `limit` nearest rows passing `expr`: HNSW, then a wider ef or an exact scan when short. */
  private async searchExpression(expr: string, prefix: string, vector: Float32Array, limit: number): Promise<Hit[]> {
    const ef = Math.max(this.options.ef, limit);
    let hits = await this.ann(expr, prefix, vector, limit, ef);
    if (hits.length < limit) {
      const matching = await this.conn.count(expr, this.options.consistency);
      if (matching > hits.length) {
        hits = await this.ann(expr, prefix, vector, limit, Math.min(MAX_EF, Math.max(ef * 8, matching)));
        if (hits.length < Math.min(limit, matching)) hits = await this.exact(expr, prefix, vector, limit, matching, hits);
      }
    }
    return hits;
  }

  /**
   * One ANN search. Searches started in the same event-loop turn with the same expression,
   * limit and ef (concurrent searches of one collection) go out as one request of several query
   * vectors: Milvus' per-request cost (proxy, scheduling, gRPC framing on both sides) is then
   * paid once for all of them, and knowhere searches them together.
   */
  private async ann(expr: string, prefix: string, vector: Float32Array, limit: number, ef: number): Promise<Hit[]> {
    const results = await new Promise<MilvusHit[]>((resolve, reject) => {
      const key = `${limit}|${ef}|${expr}`;
      let group = this.groups.get(key);
      if (!group) {
        group = { expr, limit, ef, queue: [] };
        this.groups.set(key, group);
      }
      group.queue.push({ vector, resolve, reject });
      if (group.queue.length >= (this.options.maxVectorsPerRequest ?? 16)) {
        this.groups.delete(key);
        void this.send(group);
      } else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
    const hits: Hit[] = [];
    const seen = new Set<string>();
    for (const result of results) {
      const pk = String(result.id);
      if (!pk.startsWith(prefix) || seen.has(pk)) continue;
      seen.add(pk);
      hits.push({ id: pk.slice(prefix.length), score: result.score });
    }
    return hits;
  }

  private flush(): void {
    this.flushScheduled = false;
    const groups = [...this.groups.values()];
    this.groups.clear();
    for (const group of groups) void this.send(group);
  }

  private async send(group: Group): Promise<void> {
    const { queue } = group;
    try {
      const perVector = await this.request(group, queue);
      // SDK 2.3.5 splits a multi-vector answer assuming every vector got `limit` hits; when they
      // got different numbers its split is wrong, so such a group is asked again vector by vector.
      if (queue.length > 1 && perVector.some((hits) => hits.length !== perVector[0]!.length)) {
        const single = await Promise.all(queue.map((q) => this.request(group, [q])));
        queue.forEach((q, i) => q.resolve(single[i]![0] ?? []));
        return;
      }
      queue.forEach((q, i) => q.resolve(perVector[i] ?? []));
    } catch (error) {
      for (const q of queue) q.reject(error);
    }
  }

  private async request(group: Group, queue: QueuedSearch[]): Promise<MilvusHit[][]> {
    const answer = await this.conn.call(
      "search",
      (timeout) =>
        this.conn.client.search({
          collection_name: this.conn.collection,
          // One vector: the SDK copies the Float32Array into the request's bytes as it is. Several:
          // it recognises only plain arrays as a list of vectors.
          ...(queue.length === 1
            ? { vector: queue[0]!.vector as unknown as number[] }
            : { vectors: queue.map((q) => Array.from(q.vector)) }),
          limit: group.limit,
          filter: group.expr,
          output_fields: [], // the memory id is in the primary key
          params: { ef: group.ef },
          consistency_level: this.options.consistency,
          timeout,
        }),
      { status: nested, failFast: true },
    );
    // one query vector: a flat list of hits; several: one list per vector, in order (a vector
    // with no hit leaves a hole)
    const lists = (queue.length === 1 ? [answer.results] : answer.results) as unknown as (MilvusHit[] | undefined)[];
    return queue.map((_, i) => lists[i] ?? []);
  }

  /** Scores every matching row here (a few thousand at most in practice). */
  private async exact(expr: string, prefix: string, vector: Float32Array, limit: number, matching: number, ann: Hit[]): Promise<Hit[]> {
    if (matching > MAX_EXACT_ROWS) {
      this.log.warn("milvus search came back short and too many rows match to score exactly", { matching, hits: ann.length });
      return ann;
    }
    const answer = await this.conn.call(
      "query",
      (timeout) =>
        this.conn.client.query({
          collection_name: this.conn.collection,
          filter: expr,
          output_fields: [FIELD.pk, FIELD.embedding],
          limit: matching,
          consistency_level: this.options.consistency,
          timeout,
        }),
      { status: nested, failFast: true },
    );
    let queryNorm = 0;
    for (let i = 0; i < vector.length; i++) queryNorm += vector[i]! * vector[i]!;
    queryNorm = Math.sqrt(queryNorm);
    const scored = answer.data.map((row) => {
      const embedding = row[FIELD.embedding] as number[];
      let dot = 0;
      let norm = 0;
      for (let i = 0; i < embedding.length; i++) {
        dot += vector[i]! * embedding[i]!;
        norm += embedding[i]! * embedding[i]!;
      }
      const denominator = queryNorm * Math.sqrt(norm);
      return { id: String(row[FIELD.pk]).slice(prefix.length), score: denominator === 0 ? 0 : dot / denominator };
    });
    scored.sort((a, b) => b.score - a.score);
    this.log.debug("milvus search answered exactly", { matching, ann_hits: ann.length });
    return scored.slice(0, limit);
  }
}
