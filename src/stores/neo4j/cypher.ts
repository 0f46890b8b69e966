/**
 * Every Cypher statement of the graph, as constants: values only ever arrive as parameters
 * ($rows, $ids, $collection_id), never in the text.
 *
 * The model: (:Collection {id}) <-[:IN]- (:Memory {collection_id, id, created_at, content_hash}).
 * Content stays in PostgreSQL; the hash lets a consumer tell that a memory changed.
 *
 * Extending it (the knowledge-graph work: entities a memory mentions): add the entity's
 * constraint to SCHEMA, a statement over `$rows` to UPSERT (each row can carry the entities),
 * and a batched statement to DELETE_COLLECTION_BATCHES. The writer runs the lists as they are.
 */

/** Idempotent schema statements. Composite uniqueness is available in Community 5.x (checked on 5.26). */
export const SCHEMA = [
  "CREATE CONSTRAINT memory_key IF NOT EXISTS FOR (m:Memory) REQUIRE (m.collection_id, m.id) IS UNIQUE",
  "CREATE CONSTRAINT collection_id IF NOT EXISTS FOR (c:Collection) REQUIRE c.id IS UNIQUE",
  // A collection delete finds its memories by collection_id alone.
  "CREATE INDEX memory_collection IF NOT EXISTS FOR (m:Memory) ON (m.collection_id)",
] as const;

/**
 * Upserts a batch: `$rows` = [{collection_id, id, created_at (ISO-8601), content_hash}], sorted
 * by (collection_id, id) so concurrent batches lock nodes in one order.
 */
export const UPSERT = [
  `UNWIND $rows AS row
   MERGE (c:Collection {id: row.collection_id})
   MERGE (m:Memory {collection_id: row.collection_id, id: row.id})
   SET m.created_at = datetime(row.created_at), m.content_hash = row.content_hash
   MERGE (m)-[:IN]->(c)`,
] as const;

/** Deletes the memories `$ids` of `$collection_id`, with their relationships. */
export const DELETE = [
  `UNWIND $ids AS id
   MATCH (m:Memory {collection_id: $collection_id, id: id})
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
] as const;

/** Runs after the batches: the collection node itself. */
export const DELETE_COLLECTION_NODE = `MATCH (c:Collection {id: $collection_id}) DETACH DELETE c`;
