import type { EntityInfo, GraphPath, Neighbour } from "../domain/graph.ts";
import type { Page } from "../domain/memory.ts";
import type { GraphStore } from "../ports/graph-store.ts";
import type { PendingWrites } from "../ports/pending-writes.ts";

/**
 * A graph whose writes are not waited for by the writer (production: Neo4j is a deferred outbox
 * target, delivered in batches) read as if they were: every read first has the collection's
 * pending graph writes delivered (bounded), so read-your-writes holds for graph search and the
 * entity endpoints while a write is acknowledged after its PostgreSQL commit alone. The wait
 * moves from every write to the graph reads that follow a write, and is nothing when the
 * collection has no pending rows (one indexed lookup).
 */
export class SettledGraphStore implements GraphStore {
  constructor(
    private readonly inner: GraphStore,
    private readonly pending: PendingWrites,
  ) {}

  async findEntities(collectionId: string, names: string[]): Promise<EntityInfo[]> {
    await this.pending.deliver(collectionId);
    return this.inner.findEntities(collectionId, names);
  }

  async expand(collectionId: string, seeds: string[], opts: { maxHops: 1 | 2; fanout: number; limit: number }): Promise<GraphPath[]> {
    await this.pending.deliver(collectionId);
    return this.inner.expand(collectionId, seeds, opts);
  }

  async mentions(collectionId: string, names: string[], perEntity: number): Promise<{ entity: string; memory_id: string }[]> {
    await this.pending.deliver(collectionId);
    return this.inner.mentions(collectionId, names, perEntity);
  }

  async listEntities(collectionId: string, opts: { q?: string; limit: number; cursor?: string }): Promise<Page<EntityInfo>> {
    await this.pending.deliver(collectionId);
    return this.inner.listEntities(collectionId, opts);
  }

  async neighbours(collectionId: string, name: string, limit: number): Promise<Neighbour[]> {
    await this.pending.deliver(collectionId);
    return this.inner.neighbours(collectionId, name, limit);
  }
}
