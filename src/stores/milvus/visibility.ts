import { ConsistencyLevelEnum } from "@zilliz/milvus2-sdk-node";

/**
 * How read-your-writes is kept (a memory the outbox delivered before a search began is in its
 * hits). Milvus 2.3 makes a write searchable on the query node's next time tick, 150–200 ms
 * after it is acknowledged; someone has to wait for it:
 *
 * - "write" (default): the writer waits. Each IndexWriter call ends with a Strong count of
 *   what it wrote, which returns once the write is searchable; searches then run at Bounded
 *   consistency and wait for nothing (~4 ms instead of ~200 ms per search on this box). Sound
 *   with one query-node replica per segment (standalone, and clusters with replica_number 1).
 * - "search": every search is Strong and waits for the next time tick (+150–200 ms each); the
 *   writer does not wait. For clusters that load several replicas, where a write visible on
 *   one replica may not yet be on another.
 *
 * The production runtime keeps neither wait on the request path: writes are acknowledged once
 * committed and searches merge the fresh tail (search/fresh-tail-index.ts). With several
 * replicas (MILVUS_REPLICAS) a delivered memory also stays in the tail until every replica
 * must have it (postgres/settling.ts), so searches stay Bounded.
 */
export type Visibility = "write" | "search";

export function searchConsistency(visibility: Visibility): ConsistencyLevelEnum {
  return visibility === "search" ? ConsistencyLevelEnum.Strong : ConsistencyLevelEnum.Bounded;
}

/** Allowance for the clocks of workers, PostgreSQL and Milvus' timestamp oracle drifting apart. */
const CLOCK_MARGIN_MS = 1_000;

/**
 * How long a memory Milvus confirmed on one replica stays in the fresh tail: until a Bounded
 * search on any replica must see it, `gracefulTimeMs` (Milvus' `common.gracefulTime`) after the
 * write, plus the clock margin. One replica: never needed (0).
 */
export function replicaSettleMs(replicas: number, gracefulTimeMs: number): number {
  return replicas > 1 ? gracefulTimeMs + CLOCK_MARGIN_MS : 0;
}
