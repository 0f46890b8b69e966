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
 */
export type Visibility = "write" | "search";

export function searchConsistency(visibility: Visibility): ConsistencyLevelEnum {
  return visibility === "search" ? ConsistencyLevelEnum.Strong : ConsistencyLevelEnum.Bounded;
}
