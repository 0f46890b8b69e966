import type { Database } from "bun:sqlite";
import { decodeEntityCursor, entityPage } from "../../domain/entity-cursor.ts";
import { clampCount } from "../shared/checks.ts";
import { type EntityInfo, GRAPH_CO_OCCURS, type GraphPath, type GraphStep, MAX_CO_OCCURRING_ENTITIES, type Neighbour } from "../../domain/graph.ts";
import type { Page } from "../../domain/memory.ts";
import type { GraphStore } from "../../ports/graph-store.ts";

const MAX_SEEDS = 50;

/**
 * The edges around a set of entities, as SQL over the graph tables of collection ?1, ranked per
 * entity for the fan-out bound. Every edge joins two entities some memory mentions together, so
 * the entities within one hop of the seeds are the seeds' co-mentions (`near`).
 */
const EDGES = `
  edge(src, dst, relation, reverse, weight) AS (
    SELECT r.source, r.target, r.relation, 0, count(*) FROM graph_relations AS r
      WHERE r.collection_id = ?1 AND r.source IN (SELECT name FROM near) GROUP BY r.source, r.target, r.relation
    UNION ALL
    SELECT r.target, r.source, r.relation, 1, count(*) FROM graph_relations AS r
      WHERE r.collection_id = ?1 AND r.target IN (SELECT name FROM near) GROUP BY r.target, r.source, r.relation
    UNION ALL
    SELECT a.entity, b.entity, '${GRAPH_CO_OCCURS}', 0, count(*) FROM graph_mentions AS a
      JOIN graph_mentions AS b ON b.memory_seq = a.memory_seq AND b.entity <> a.entity AND b.position < ${MAX_CO_OCCURRING_ENTITIES}
      WHERE a.collection_id = ?1 AND a.entity IN (SELECT name FROM near) AND a.position < ${MAX_CO_OCCURRING_ENTITIES}
      GROUP BY a.entity, b.entity
  ),
  ranked AS (
    SELECT src, dst, relation, reverse, weight,
           row_number() OVER (PARTITION BY src ORDER BY weight DESC, dst, relation, reverse) AS rn
    FROM edge
  )`;

interface EntityRow {
  name: string;
  display: string;
  type: string;
  mentions: number;
}

const ENTITY_COLUMNS = `e.name, e.display, e.type,
  (SELECT count(*) FROM graph_mentions AS g WHERE g.collection_id = e.collection_id AND g.entity = e.name) AS mentions`;

/** The embedded GraphStore: recursive CTEs over the graph tables of the same SQLite file. */
export class EmbeddedGraphStore implements GraphStore {
  private readonly findStmt;
  private readonly expandStmt;
  private readonly mentionsStmt;
  private readonly listStmt;
  private readonly neighboursStmt;

  constructor(db: Database) {
    this.findStmt = db.prepare<EntityRow, [string, string]>(
      `SELECT ${ENTITY_COLUMNS} FROM graph_entities AS e
       WHERE e.collection_id = ? AND e.name IN (SELECT value FROM json_each(?)) ORDER BY e.name`,
    );
    this.expandStmt = db.prepare<{ nodes: string; steps: string }, [string, string, number, number, number]>(
      `WITH RECURSIVE
       seed(name) AS (
         SELECT e.name FROM graph_entities AS e WHERE e.collection_id = ?1 AND e.name IN (SELECT value FROM json_each(?2))
       ),
       near(name) AS (
         SELECT name FROM seed
         UNION
         SELECT b.entity FROM seed AS s
           JOIN graph_mentions AS a ON a.collection_id = ?1 AND a.entity = s.name
           JOIN graph_mentions AS b ON b.memory_seq = a.memory_seq
         WHERE ?4 > 1
       ),
       ${EDGES},
       walk(last, depth, nodes, steps) AS (
         SELECT name, 0, json_array(name), json_array() FROM seed
         UNION ALL
         SELECT r.dst, w.depth + 1, json_insert(w.nodes, '$[#]', r.dst),
                json_insert(w.steps, '$[#]', json_array(r.relation, r.reverse, r.weight))
         FROM walk AS w JOIN ranked AS r ON r.src = w.last AND r.rn <= ?3
         WHERE w.depth < ?4 AND NOT EXISTS (SELECT 1 FROM json_each(w.nodes) AS v WHERE v.value = r.dst)
       )
       SELECT nodes, steps FROM walk WHERE depth > 0 ORDER BY depth, nodes, steps LIMIT ?5`,
    );
    this.mentionsStmt = db.prepare<{ entity: string; memory_id: string }, [string, string, number]>(
      `SELECT q.value AS entity, m.id AS memory_id
       FROM json_each(?2) AS q
       JOIN graph_mentions AS g ON g.collection_id = ?1 AND g.entity = q.value
         AND g.memory_seq IN (SELECT g2.memory_seq FROM graph_mentions AS g2
                              WHERE g2.collection_id = ?1 AND g2.entity = q.value ORDER BY g2.memory_seq DESC LIMIT ?3)
       JOIN memories AS m ON m.seq = g.memory_seq
       ORDER BY q.key, g.memory_seq DESC`,
    );
    this.listStmt = db.prepare<EntityRow, [string, string, string, number]>(
      `SELECT ${ENTITY_COLUMNS} FROM graph_entities AS e
       WHERE e.collection_id = ?1 AND e.name > ?2 AND (?3 = '' OR instr(e.name, ?3) > 0)
       ORDER BY e.name LIMIT ?4`,
    );
    this.neighboursStmt = db.prepare<
      { name: string; display: string; type: string; relation: string; reverse: number; weight: number },
      [string, string, number]
    >(
      `WITH near(name) AS (SELECT ?2), ${EDGES}
       SELECT r.dst AS name, e.display, e.type, r.relation, r.reverse, r.weight
       FROM ranked AS r JOIN graph_entities AS e ON e.collection_id = ?1 AND e.name = r.dst
       WHERE r.src = ?2 ORDER BY r.rn LIMIT ?3`,
    );
  }

  async findEntities(collectionId: string, names: string[]): Promise<EntityInfo[]> {
    if (names.length === 0) return [];
    return this.findStmt.all(collectionId, JSON.stringify([...new Set(names)]));
  }

  async expand(collectionId: string, seeds: string[], opts: { maxHops: 1 | 2; fanout: number; limit: number }): Promise<GraphPath[]> {
    const unique = [...new Set(seeds)].slice(0, MAX_SEEDS);
    const limit = clampCount(opts.limit, 100_000);
    const fanout = clampCount(opts.fanout, 1000);
    if (unique.length === 0 || limit === 0 || fanout === 0) return [];
    const hops = opts.maxHops === 1 ? 1 : 2;
    return this.expandStmt.all(collectionId, JSON.stringify(unique), fanout, hops, limit).map((row) => ({
      nodes: JSON.parse(row.nodes) as string[],
      steps: (JSON.parse(row.steps) as [string, number, number][]).map(
        ([relation, reverse, weight]): GraphStep => ({ relation, reverse: reverse === 1, weight }),
      ),
    }));
  }

  async mentions(collectionId: string, names: string[], perEntity: number): Promise<{ entity: string; memory_id: string }[]> {
    const limit = clampCount(perEntity, 10_000);
    if (names.length === 0 || limit === 0) return [];
    return this.mentionsStmt.all(collectionId, JSON.stringify([...new Set(names)]), limit);
  }

  async listEntities(collectionId: string, opts: { q?: string; limit: number; cursor?: string }): Promise<Page<EntityInfo>> {
    const after = opts.cursor === undefined ? "" : decodeEntityCursor(opts.cursor);
    const limit = Math.max(1, clampCount(opts.limit, 1000));
    const rows = this.listStmt.all(collectionId, after, opts.q ?? "", limit + 1);
    return entityPage(rows, limit);
  }

  async neighbours(collectionId: string, name: string, limit: number): Promise<Neighbour[]> {
    const n = clampCount(limit, 1000);
    if (n === 0) return [];
    return this.neighboursStmt.all(collectionId, name, n).map((r) => ({
      name: r.name,
      display: r.display,
      type: r.type,
      relation: r.relation,
      direction: r.relation === GRAPH_CO_OCCURS ? "both" : r.reverse === 1 ? "in" : "out",
      weight: r.weight,
    }));
  }
}
