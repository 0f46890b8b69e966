import type { Migration } from "./schema.ts";

/**
 * The knowledge graph in the embedded database (migration 2): each memory's graph facts as a
 * JSON column (the source of truth, returned on read), and the rows the graph is queried from,
 * written in the memory's transaction. Aggregates (a relation's weight, a co-occurrence count)
 * are computed when read, so an update or a delete only has to replace the memory's own rows;
 * triggers remove them with the memory and drop entities no memory mentions any more.
 */
export const graphMigration: Migration = (db) => {
  db.run(`ALTER TABLE memories ADD COLUMN graph TEXT`);
  db.run(`CREATE TABLE IF NOT EXISTS graph_entities (
    collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    display TEXT NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY (collection_id, name)
  ) WITHOUT ROWID`);
  db.run(`CREATE TABLE IF NOT EXISTS graph_mentions (
    memory_seq INTEGER NOT NULL,
    collection_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    PRIMARY KEY (memory_seq, entity)
  ) WITHOUT ROWID`);
  db.run(`CREATE INDEX IF NOT EXISTS graph_mentions_entity ON graph_mentions (collection_id, entity, memory_seq)`);
  db.run(`CREATE TABLE IF NOT EXISTS graph_relations (
    memory_seq INTEGER NOT NULL,
    collection_id TEXT NOT NULL,
    source TEXT NOT NULL,
    relation TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (memory_seq, source, relation, target)
  ) WITHOUT ROWID`);
  db.run(`CREATE INDEX IF NOT EXISTS graph_relations_source ON graph_relations (collection_id, source)`);
  db.run(`CREATE INDEX IF NOT EXISTS graph_relations_target ON graph_relations (collection_id, target)`);
  // Every delete path (memory delete, collection cascade) takes the memory's graph rows with it.
  db.run(`CREATE TRIGGER IF NOT EXISTS memories_graph_after_delete AFTER DELETE ON memories BEGIN
    DELETE FROM graph_relations WHERE memory_seq = old.seq;
    DELETE FROM graph_mentions WHERE memory_seq = old.seq;
  END`);
  // An entity no memory mentions any more is gone.
  db.run(`CREATE TRIGGER IF NOT EXISTS graph_mentions_after_delete AFTER DELETE ON graph_mentions BEGIN
    DELETE FROM graph_entities WHERE collection_id = old.collection_id AND name = old.entity
      AND NOT EXISTS (SELECT 1 FROM graph_mentions AS g WHERE g.collection_id = old.collection_id AND g.entity = old.entity);
  END`);
};

/**
 * Migration 10: each mention's position among its memory's entities, so co-occurrence joins only
 * the first MAX_CO_OCCURRING_ENTITIES (domain/graph.ts), as the Neo4j writer does. Existing rows
 * take their position from the memory's stored facts.
 */
export const mentionPositionMigration: Migration = (db) => {
  const columns = db.query<{ name: string }, []>("PRAGMA table_info(graph_mentions)").all();
  if (!columns.some((c) => c.name === "position")) db.run(`ALTER TABLE graph_mentions ADD COLUMN position INTEGER NOT NULL DEFAULT 0`);
  db.run(`UPDATE graph_mentions SET position = coalesce((
      SELECT min(j.key) FROM memories AS m, json_each(m.graph, '$.entities') AS j
      WHERE m.seq = graph_mentions.memory_seq AND json_extract(j.value, '$.name') = graph_mentions.entity), 0)`);
};
