import type { EntityInfo, GraphPath, Neighbour } from "../domain/graph.ts";
import type { Page } from "../domain/memory.ts";

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
