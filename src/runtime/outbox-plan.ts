import type { Config } from "../config.ts";
import { replicaSettleMs } from "../stores/milvus/index.ts";
import type { OutboxOptions } from "../stores/postgres/outbox.ts";
import type { GraphStore } from "../ports/graph-store.ts";
import type { PendingWrites } from "../ports/pending-writes.ts";
import { SettledGraphStore } from "../search/settled-graph-store.ts";

/**
 * Which derived indexes a write waits for, as production composes the outbox (test/support
 * composes the same): Milvus is read through the fresh tail (FRESH_TAIL), with its replicas'
 * settling window; Neo4j through graph reads that deliver a collection's pending rows first
 * (GRAPH_DEFERRED, search/settled-graph-store.ts). A target in neither is delivered before the
 * write is acknowledged (bounded).
 */
export function outboxPlan(p: Config["production"], targets: { milvus: string; neo4j: string }): Pick<OutboxOptions, "deferredTargets" | "settleMs"> {
  return {
    deferredTargets: [...(p.freshTail ? [targets.milvus] : []), ...(p.graphDeferred ? [targets.neo4j] : [])],
    settleMs: p.freshTail ? { [targets.milvus]: replicaSettleMs(p.milvusReplicas, p.milvusGracefulTimeMs) } : {},
  };
}

/** The graph reads as the plan needs them: with GRAPH_DEFERRED, each first delivers its collection's pending rows. */
export function plannedGraph(p: Config["production"], graph: GraphStore, pending: PendingWrites): GraphStore {
  return p.graphDeferred ? new SettledGraphStore(graph, pending) : graph;
}
