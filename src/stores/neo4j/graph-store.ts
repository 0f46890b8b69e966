import neo4j, { type Driver } from "neo4j-driver";
import { decodeEntityCursor, entityPage } from "../../domain/entity-cursor.ts";
import { clampCount } from "../shared/checks.ts";
import { type EntityInfo, GRAPH_CO_OCCURS, type GraphPath, type Neighbour } from "../../domain/graph.ts";
import type { Page } from "../../domain/memory.ts";
import type { GraphStore } from "../../ports/graph-store.ts";
import { translated } from "./errors.ts";

const MAX_SEEDS = 50;

/**
 * The edges of `$from` (bound in the enclosing query), heaviest `$fanout` first, with the same
 * tie-break as the embedded store: neighbour name, relation, direction.
 */
const EDGES_OF = (from: string) => `
    MATCH (${from})-[r:RELATED|CO_OCCURS]-(n:Entity)
    WITH n, CASE type(r) WHEN 'RELATED' THEN r.relation ELSE '${GRAPH_CO_OCCURS}' END AS relation,
         type(r) = 'RELATED' AND startNode(r) <> ${from} AS reverse,
         CASE type(r) WHEN 'RELATED' THEN r.weight ELSE r.count END AS weight
    ORDER BY weight DESC, n.name, relation, reverse
    LIMIT $fanout`;

const ENTITY_FIELDS = "e.name AS name, e.display AS display, e.type AS type, COUNT { (e)-[:MENTIONED_IN]->(:Memory) } AS mentions";

const FIND = `UNWIND $names AS name
  MATCH (e:Entity {collection_id: $collection_id, name: name})
  RETURN ${ENTITY_FIELDS} ORDER BY e.name`;

const EXPAND_1 = `UNWIND $seeds AS seed
  MATCH (s:Entity {collection_id: $collection_id, name: seed})
  CALL { WITH s ${EDGES_OF("s")} RETURN n.name AS n1, relation AS rel1, reverse AS rev1, weight AS w1 }
  RETURN s.name AS seed, n1, rel1, rev1, w1, [] AS second`;

const EXPAND_2 = `UNWIND $seeds AS seed
  MATCH (s:Entity {collection_id: $collection_id, name: seed})
  CALL { WITH s ${EDGES_OF("s")} RETURN n AS hop, n.name AS n1, relation AS rel1, reverse AS rev1, weight AS w1 }
  CALL { WITH hop ${EDGES_OF("hop")} RETURN collect([n.name, relation, reverse, weight]) AS second }
  RETURN s.name AS seed, n1, rel1, rev1, w1, second`;

const MENTIONS = `UNWIND $names AS name
  MATCH (e:Entity {collection_id: $collection_id, name: name})
  CALL { WITH e MATCH (e)-[:MENTIONED_IN]->(m:Memory) RETURN m ORDER BY m.created_at DESC, m.id DESC LIMIT $per }
  RETURN name AS entity, m.id AS memory_id`;

const LIST = `MATCH (e:Entity {collection_id: $collection_id})
  WHERE e.name > $after AND ($q = '' OR e.name CONTAINS $q)
  WITH e ORDER BY e.name LIMIT $limit
  RETURN ${ENTITY_FIELDS}`;

const NEIGHBOURS = `MATCH (e:Entity {collection_id: $collection_id, name: $name})
  CALL { WITH e ${EDGES_OF("e")} RETURN n, relation, reverse, weight }
  RETURN n.name AS name, n.display AS display, n.type AS type, relation, reverse, weight`;

export interface Neo4jGraphStoreOptions {
  /** Server-side bound on each read (ms). */
  transactionTimeoutMs: number;
  /** Client-side bound on one call (ms): a hung server is a DependencyUnavailableError, not a hang. */
  callTimeoutMs: number;
}

/** The production GraphStore: parameterised Cypher over the graph the Neo4j writer maintains. */
export class Neo4jGraphStore implements GraphStore {
  constructor(
    private readonly driver: Driver,
    private readonly options: Neo4jGraphStoreOptions,
  ) {}

  async findEntities(collectionId: string, names: string[]): Promise<EntityInfo[]> {
    if (names.length === 0) return [];
    return this.read<EntityInfo>(FIND, { collection_id: collectionId, names: [...new Set(names)] });
  }

  async expand(collectionId: string, seeds: string[], opts: { maxHops: 1 | 2; fanout: number; limit: number }): Promise<GraphPath[]> {
    const unique = [...new Set(seeds)].slice(0, MAX_SEEDS);
    const limit = clampCount(opts.limit, 100_000);
    const fanout = clampCount(opts.fanout, 1000);
    if (unique.length === 0 || limit === 0 || fanout === 0) return [];
    const rows = await this.read<{ seed: string; n1: string; rel1: string; rev1: boolean; w1: number; second: [string, string, boolean, number][] }>(
      opts.maxHops === 1 ? EXPAND_1 : EXPAND_2,
      { collection_id: collectionId, seeds: unique, fanout: neo4j.int(fanout) },
    );
    const paths: GraphPath[] = [];
    for (const row of rows) {
      const first = { relation: row.rel1, reverse: row.rev1, weight: row.w1 };
      paths.push({ nodes: [row.seed, row.n1], steps: [first] });
      for (const [n2, relation, reverse, weight] of row.second) {
        if (n2 === row.seed || n2 === row.n1) continue;
        paths.push({ nodes: [row.seed, row.n1, n2], steps: [first, { relation, reverse, weight }] });
      }
    }
    // the embedded store's order: shorter first, then by content
    const key = (p: GraphPath) => JSON.stringify([p.nodes, p.steps.map((s) => [s.relation, s.reverse ? 1 : 0, s.weight])]);
    return paths
      .map((p) => ({ p, k: key(p) }))
      .sort((a, b) => a.p.nodes.length - b.p.nodes.length || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
      .slice(0, limit)
      .map(({ p }) => p);
  }

  async mentions(collectionId: string, names: string[], perEntity: number): Promise<{ entity: string; memory_id: string }[]> {
    const per = clampCount(perEntity, 10_000);
    if (names.length === 0 || per === 0) return [];
    return this.read(MENTIONS, { collection_id: collectionId, names: [...new Set(names)], per: neo4j.int(per) });
  }

  async listEntities(collectionId: string, opts: { q?: string; limit: number; cursor?: string }): Promise<Page<EntityInfo>> {
    const after = opts.cursor === undefined ? "" : decodeEntityCursor(opts.cursor);
    const limit = Math.max(1, clampCount(opts.limit, 1000));
    const rows = await this.read<EntityInfo>(LIST, { collection_id: collectionId, after, q: opts.q ?? "", limit: neo4j.int(limit + 1) });
    return entityPage(rows, limit);
  }

  async neighbours(collectionId: string, name: string, limit: number): Promise<Neighbour[]> {
    const n = clampCount(limit, 1000);
    if (n === 0) return [];
    const rows = await this.read<{ name: string; display: string; type: string; relation: string; reverse: boolean; weight: number }>(
      NEIGHBOURS,
      { collection_id: collectionId, name, fanout: neo4j.int(n) },
    );
    return rows.map((r) => ({
      name: r.name,
      display: r.display,
      type: r.type,
      relation: r.relation,
      direction: r.relation === GRAPH_CO_OCCURS ? "both" : r.reverse ? "in" : "out",
      weight: r.weight,
    }));
  }

  private read<T>(cypher: string, parameters: Record<string, unknown>): Promise<T[]> {
    return translated(async () => {
      const session = this.driver.session({ defaultAccessMode: "READ" });
      try {
        const result = await session.executeRead((tx) => tx.run(cypher, parameters), { timeout: this.options.transactionTimeoutMs });
        return result.records.map((r) => r.toObject() as T);
      } finally {
        await session.close();
      }
    }, this.options.callTimeoutMs);
  }
}
