import type { Database } from "bun:sqlite";
import type { GraphFacts } from "../../domain/graph.ts";

/**
 * Replaces one memory's rows in the graph tables; called inside the memory's write transaction
 * (so the graph never lags the memory). Entities keep the display name and type they were first
 * written with; an entity only this memory mentioned disappears with its mention (trigger).
 */
export class EmbeddedGraphWriter {
  private readonly insertEntity;
  private readonly dropMentions;
  private readonly insertMention;
  private readonly dropRelations;
  private readonly insertRelation;

  constructor(db: Database) {
    this.insertEntity = db.prepare<null, [string, string, string, string]>(
      "INSERT OR IGNORE INTO graph_entities (collection_id, name, display, type) VALUES (?, ?, ?, ?)",
    );
    this.dropMentions = db.prepare<null, [number, string]>(
      "DELETE FROM graph_mentions WHERE memory_seq = ? AND entity NOT IN (SELECT value FROM json_each(?))",
    );
    this.insertMention = db.prepare<null, [number, string, string, number]>(
      `INSERT INTO graph_mentions (memory_seq, collection_id, entity, position) VALUES (?, ?, ?, ?)
       ON CONFLICT (memory_seq, entity) DO UPDATE SET position = excluded.position`,
    );
    this.dropRelations = db.prepare<null, [number]>("DELETE FROM graph_relations WHERE memory_seq = ?");
    this.insertRelation = db.prepare<null, [number, string, string, string, string]>(
      "INSERT OR IGNORE INTO graph_relations (memory_seq, collection_id, source, relation, target) VALUES (?, ?, ?, ?, ?)",
    );
  }

  /** Must run inside a transaction. `facts` null or empty: the memory has no graph rows. */
  replace(collectionId: string, seq: number, facts: GraphFacts | null | undefined): void {
    const entities = facts?.entities ?? [];
    for (const e of entities) this.insertEntity.run(collectionId, e.name, e.display, e.type);
    this.dropMentions.run(seq, JSON.stringify(entities.map((e) => e.name)));
    const positions = new Map<string, number>();
    for (const e of entities) if (!positions.has(e.name)) positions.set(e.name, positions.size);
    for (const [name, position] of positions) this.insertMention.run(seq, collectionId, name, position);
    this.dropRelations.run(seq);
    for (const r of facts?.relations ?? []) this.insertRelation.run(seq, collectionId, r.source, r.relation, r.target);
  }
}
