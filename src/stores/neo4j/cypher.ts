/**
 * Every Cypher statement of the graph, as constants: values only ever arrive as parameters
 * ($rows, $ids, $collection_id), never in the text.
 *
 * The model: (:Collection {id}) <-[:IN]- (:Memory {collection_id, id, created_at, content_hash}).
 * Content stays in PostgreSQL; the hash lets a consumer tell that a memory changed.
 *
 * The knowledge graph (each memory's facts, computed once at write time and stored with it in
 * PostgreSQL, arrive as `row.entities` and `row.relations`):
 *   (:Entity {collection_id, name, display, type})   name = normal form, unique per collection
 *   (:Entity)-[:MENTIONED_IN]->(:Memory)
 *   (:Entity)-[:RELATED {relation, weight}]->(:Entity)   weight = memories stating it
 *   (:Entity)-[:CO_OCCURS {count}]->(:Entity)            name(a) < name(b); count = memories
 * A memory node keeps its own contribution (`rel_sources`, `rel_labels`, `rel_targets`,
 * `pair_a`, `pair_b`: parallel lists), so an upsert first takes exactly that contribution back
 * (decrementing, deleting an edge that reaches 0 and an entity no memory mentions), then adds
 * the new one: a re-delivered upsert counts nothing twice, and a write costs what its own facts
 * cost, whatever the size of the collection (edges used to carry the ids of every contributing
 * memory, a list rewritten by each write of a hot pair). Edges written before that still carry
 * `memories`: those memories' contributions are taken back through the list, as before.
 */

/** Idempotent schema statements. Composite uniqueness is available in Community 5.x (checked on 5.26). */
export const SCHEMA = [
  "CREATE CONSTRAINT memory_key IF NOT EXISTS FOR (m:Memory) REQUIRE (m.collection_id, m.id) IS UNIQUE",
  "CREATE CONSTRAINT collection_id IF NOT EXISTS FOR (c:Collection) REQUIRE c.id IS UNIQUE",
  // A collection delete finds its memories by collection_id alone.
  "CREATE INDEX memory_collection IF NOT EXISTS FOR (m:Memory) ON (m.collection_id)",
  "CREATE CONSTRAINT entity_key IF NOT EXISTS FOR (e:Entity) REQUIRE (e.collection_id, e.name) IS UNIQUE",
  "CREATE INDEX entity_collection IF NOT EXISTS FOR (e:Entity) ON (e.collection_id)",
  "CREATE INDEX related_relation IF NOT EXISTS FOR ()-[r:RELATED]-() ON (r.relation)",
] as const;

/**
 * Takes the memories' (`$rows`: {collection_id, id, entities: [{name}]}) contributions out of the
 * graph: the edges they stated lose one, emptied edges go, mentions of entities not in
 * `row.entities` go, and so do entities no memory mentions any more.
 */
const RETRACT = [
  // what the memory recorded it added
  `UNWIND $rows AS row
   MATCH (m:Memory {collection_id: row.collection_id, id: row.id})
   WHERE m.rel_sources IS NOT NULL
   UNWIND range(0, size(m.rel_sources) - 1) AS i
   MATCH (a:Entity {collection_id: row.collection_id, name: m.rel_sources[i]})-[r:RELATED {relation: m.rel_labels[i]}]->(b:Entity {collection_id: row.collection_id, name: m.rel_targets[i]})
   SET r.weight = r.weight - 1
   WITH r WHERE r.weight <= 0
   DELETE r`,
  `UNWIND $rows AS row
   MATCH (m:Memory {collection_id: row.collection_id, id: row.id})
   WHERE m.pair_a IS NOT NULL
   UNWIND range(0, size(m.pair_a) - 1) AS i
   MATCH (a:Entity {collection_id: row.collection_id, name: m.pair_a[i]})-[r:CO_OCCURS]->(b:Entity {collection_id: row.collection_id, name: m.pair_b[i]})
   SET r.count = r.count - 1
   WITH r WHERE r.count <= 0
   DELETE r`,
  // edges written before memories recorded their contribution: the memory's id in the edge's
  // list. Only a memory that has never recorded one (rel_sources is null: written in the old
  // form, or just created) can be in such a list; the walk over its entities' every edge is
  // skipped for all others (it cost hot entities their whole degree on every write).
  `UNWIND $rows AS row
   MATCH (m:Memory {collection_id: row.collection_id, id: row.id})
   WHERE m.rel_sources IS NULL
   MATCH (a:Entity)-[:MENTIONED_IN]->(m)
   MATCH (a)-[r:RELATED|CO_OCCURS]->(b:Entity)-[:MENTIONED_IN]->(m)
   WHERE r.memories IS NOT NULL AND row.id IN r.memories
   SET r.memories = [x IN r.memories WHERE x <> row.id]
   WITH DISTINCT r
   SET r.weight = CASE type(r) WHEN 'RELATED' THEN r.weight - 1 ELSE null END,
       r.count = CASE type(r) WHEN 'CO_OCCURS' THEN r.count - 1 ELSE null END
   WITH r WHERE coalesce(r.weight, r.count) <= 0
   DELETE r`,
  `UNWIND $rows AS row
   MATCH (m:Memory {collection_id: row.collection_id, id: row.id})
   SET m.rel_sources = null, m.rel_labels = null, m.rel_targets = null, m.pair_a = null, m.pair_b = null`,
  `UNWIND $rows AS row
   MATCH (a:Entity)-[mi:MENTIONED_IN]->(m:Memory {collection_id: row.collection_id, id: row.id})
   WHERE NOT a.name IN [e IN row.entities | e.name]
   DELETE mi
   WITH DISTINCT a
   WHERE NOT (a)-[:MENTIONED_IN]->()
   DETACH DELETE a`,
] as const;

/** Adds the memories' facts: entities, mentions, relations, co-occurrences (`row.pairs`), and records them on the memory. */
const ASSERT = [
  `UNWIND $rows AS row
   MATCH (m:Memory {collection_id: row.collection_id, id: row.id})
   UNWIND row.entities AS ent
   MERGE (e:Entity {collection_id: row.collection_id, name: ent.name})
     ON CREATE SET e.display = ent.display, e.type = ent.type
   MERGE (e)-[:MENTIONED_IN]->(m)`,
  `UNWIND $rows AS row
   UNWIND row.relations AS rel
   MATCH (a:Entity {collection_id: row.collection_id, name: rel.source})
   MATCH (b:Entity {collection_id: row.collection_id, name: rel.target})
   MERGE (a)-[r:RELATED {relation: rel.relation}]->(b)
     ON CREATE SET r.weight = 0
   SET r.weight = r.weight + 1`,
  `UNWIND $rows AS row
   UNWIND row.pairs AS pair
   MATCH (a:Entity {collection_id: row.collection_id, name: pair[0]})
   MATCH (b:Entity {collection_id: row.collection_id, name: pair[1]})
   MERGE (a)-[r:CO_OCCURS]->(b)
     ON CREATE SET r.count = 0
   SET r.count = r.count + 1`,
  `UNWIND $rows AS row
   MATCH (m:Memory {collection_id: row.collection_id, id: row.id})
   SET m.rel_sources = [x IN row.relations | x.source], m.rel_labels = [x IN row.relations | x.relation],
       m.rel_targets = [x IN row.relations | x.target],
       m.pair_a = [p IN row.pairs | p[0]], m.pair_b = [p IN row.pairs | p[1]]`,
] as const;

/**
 * Upserts a batch: `$rows` = [{collection_id, id, created_at (ISO-8601), content_hash, entities:
 * [{name, display, type}], relations: [{source, relation, target}], pairs: [[a, b]]}], sorted by
 * (collection_id, id) so concurrent batches lock nodes in one order. The memory's previous
 * contribution to the graph is retracted first, so its current facts replace it.
 */
export const UPSERT = [
  `UNWIND $rows AS row
   MERGE (c:Collection {id: row.collection_id})
   MERGE (m:Memory {collection_id: row.collection_id, id: row.id})
   SET m.created_at = datetime(row.created_at), m.content_hash = row.content_hash
   MERGE (m)-[:IN]->(c)`,
  ...RETRACT,
  ...ASSERT,
] as const;

/** Deletes the memories of `$rows` ({collection_id, id, entities: []}) and their graph contributions. */
export const DELETE = [
  ...RETRACT,
  `UNWIND $rows AS row
   MATCH (m:Memory {collection_id: row.collection_id, id: row.id})
   DETACH DELETE m`,
] as const;

/**
 * Deletes up to `$batch` nodes of `$collection_id` and returns how many: run until 0 (a big
 * collection is removed in bounded transactions).
 */
export const DELETE_COLLECTION_BATCHES = [
  `MATCH (m:Memory {collection_id: $collection_id})
   WITH m LIMIT $batch
   DETACH DELETE m
   RETURN count(*) AS deleted`,
  `MATCH (e:Entity {collection_id: $collection_id})
   WITH e LIMIT $batch
   DETACH DELETE e
   RETURN count(*) AS deleted`,
] as const;

/** Runs after the batches: the collection node itself. */
export const DELETE_COLLECTION_NODE = `MATCH (c:Collection {id: $collection_id}) DETACH DELETE c`;
