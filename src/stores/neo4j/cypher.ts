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
 *   (:Entity)-[:RELATED {relation, weight, memories}]->(:Entity)   weight = memories stating it
 *   (:Entity)-[:CO_OCCURS {count, memories}]->(:Entity)            name(a) < name(b); count = memories
 * `memories` lists the ids of the memories that contribute an edge: a re-delivered upsert adds
 * nothing twice, and an update or delete removes exactly the memory's contribution (an edge left
 * with none is deleted, an entity no memory mentions is deleted). Every statement is idempotent.
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
 * graph: their ids leave every edge between their current entities, emptied edges go, mentions
 * of entities not in `row.entities` go, and so do entities no memory mentions any more.
 */
const RETRACT = [
  `UNWIND $rows AS row
   MATCH (a:Entity)-[:MENTIONED_IN]->(m:Memory {collection_id: row.collection_id, id: row.id})
   MATCH (a)-[r:RELATED|CO_OCCURS]->(b:Entity)-[:MENTIONED_IN]->(m)
   WHERE row.id IN r.memories
   SET r.memories = [x IN r.memories WHERE x <> row.id]
   WITH DISTINCT r
   SET r.weight = CASE type(r) WHEN 'RELATED' THEN size(r.memories) ELSE null END,
       r.count = CASE type(r) WHEN 'CO_OCCURS' THEN size(r.memories) ELSE null END
   WITH r WHERE size(r.memories) = 0
   DELETE r`,
  `UNWIND $rows AS row
   MATCH (a:Entity)-[mi:MENTIONED_IN]->(m:Memory {collection_id: row.collection_id, id: row.id})
   WHERE NOT a.name IN [e IN row.entities | e.name]
   DELETE mi
   WITH DISTINCT a
   WHERE NOT (a)-[:MENTIONED_IN]->()
   DETACH DELETE a`,
] as const;

/** Adds the memories' facts: entities, mentions, relations, co-occurrences (`row.pairs`). */
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
     ON CREATE SET r.memories = []
   SET r.memories = CASE WHEN row.id IN r.memories THEN r.memories ELSE r.memories + row.id END
   SET r.weight = size(r.memories)`,
  `UNWIND $rows AS row
   UNWIND row.pairs AS pair
   MATCH (a:Entity {collection_id: row.collection_id, name: pair[0]})
   MATCH (b:Entity {collection_id: row.collection_id, name: pair[1]})
   MERGE (a)-[r:CO_OCCURS]->(b)
     ON CREATE SET r.memories = []
   SET r.memories = CASE WHEN row.id IN r.memories THEN r.memories ELSE r.memories + row.id END
   SET r.count = size(r.memories)`,
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
