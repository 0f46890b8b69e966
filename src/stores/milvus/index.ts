import type { Logger } from "../../log.ts";
import type { HealthCheck } from "../../ports/health-check.ts";
import type { IndexWriter } from "../../ports/index-writer.ts";
import type { VectorIndex } from "../../ports/vector-index.ts";
import { MilvusConnection } from "./connection.ts";
import { MilvusHealthCheck } from "./health.ts";
import { ensureCollection } from "./schema.ts";
import { type FilterSource, MilvusVectorIndex } from "./vector-index.ts";
import { MATCH_ALL } from "../../domain/search.ts";
import { searchConsistency, type Visibility } from "./visibility.ts";
import { MilvusIndexWriter } from "./writer.ts";

export type { Visibility } from "./visibility.ts";
export { replicaSettleMs } from "./visibility.ts";

export interface MilvusIndexOptions {
  /** `host:port` of Milvus' gRPC endpoint (config: MILVUS_ADDRESS). */
  address: string;
  /** The Milvus collection holding every memory collection's vectors (default "memories"). */
  collection?: string;
  /** Embedding length; an existing collection made for another is refused. */
  dimensions: number;
  log: Logger;
  /** Who waits for Milvus to make a write searchable (visibility.ts; default "write"). */
  visibility?: Visibility;
  /** Bound on every call to Milvus (default 10 s). */
  timeoutMs?: number;
  /** Bound on loading the collection in warm() (default 120 s). */
  loadTimeoutMs?: number;
  /** HNSW search candidate list size, raised to k when smaller (default 64). */
  ef?: number;
  /** Query-node replicas to load the collection with (default 1; several need a fresh tail: visibility.ts). */
  replicas?: number;
}

export interface MilvusIndex {
  /**
   * The vector index. A filter that a Milvus expression cannot state exactly (exists, contains,
   * updated_at) needs the source of truth to be checked against: use vectorsCheckingWith.
   */
  vectors: VectorIndex;
  /** The vector index, checking such filters against `source` (the memory store). */
  vectorsCheckingWith(source: FilterSource): VectorIndex;
  /** The outbox target "milvus". */
  writer: IndexWriter;
  health: HealthCheck;
  /** Loads the collection into memory (once; the first load of a big collection takes a while). */
  warm(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * Connects and makes sure the collection and its index exist (idempotent; several workers may
 * start at once). Throws DependencyUnavailableError("milvus") when Milvus cannot be reached
 * within the timeout. Searches need warm() first: it loads the collection, which searches
 * never do.
 */
export async function openMilvusIndex(options: MilvusIndexOptions): Promise<MilvusIndex> {
  if (!Number.isInteger(options.dimensions) || options.dimensions < 1) {
    throw new RangeError(`dimensions must be a positive integer, got ${options.dimensions}`);
  }
  const collection = options.collection ?? "memories";
  const visibility = options.visibility ?? "write";
  const log = options.log.child({ component: "milvus", collection });
  const conn = new MilvusConnection({
    address: options.address,
    collection,
    timeoutMs: options.timeoutMs ?? 10_000,
    loadTimeoutMs: options.loadTimeoutMs ?? 120_000,
    replicas: options.replicas ?? 1,
    log,
  });
  try {
    const version = await conn.connect();
    await ensureCollection(conn, options.dimensions, log);
    log.info("milvus connected", { address: options.address, version, visibility, replicas: conn.replicas });
  } catch (error) {
    conn.close();
    throw error;
  }

  const vectors = new MilvusVectorIndex(
    conn,
    options.dimensions,
    { ef: options.ef ?? 64, consistency: searchConsistency(visibility) },
    log,
  );
  let warming: Promise<void> | undefined;
  const warm = async () => {
    const started = performance.now();
    await conn.load(conn.loadTimeoutMs);
    // One search through the SDK (it caches the collection's description on the first).
    const probe = new Float32Array(options.dimensions);
    probe[0] = 1;
    await vectors.search("", probe, 1, MATCH_ALL);
    conn.warmed = true;
    log.info("milvus collection loaded", { ms: Math.round(performance.now() - started) });
  };
  return {
    vectors,
    vectorsCheckingWith: (source) => vectors.checkingWith(source),
    writer: new MilvusIndexWriter(conn, options.dimensions, visibility, log),
    health: new MilvusHealthCheck(conn),
    warm() {
      warming ??= warm().catch((error: unknown) => {
        warming = undefined;
        throw error;
      });
      return warming;
    },
    close: async () => conn.close(),
  };
}
