import { float32FromBytes } from "../../domain/vector-bytes";
import type { Database } from "bun:sqlite";
import type { ChangedMemories, ChangeFeed } from "../../ports/change-feed.ts";
import { type Clock, systemClock } from "../shared/expiry.ts";
import { COLUMNS, type MemoryRow, toMemory } from "./memories.ts";

interface ChangedRow extends MemoryRow {
  changed_id: string;
  changed_seq: number;
  present: number | null;
  embedding: Uint8Array | null;
  embedding_model: string | null;
}

const memoryColumns = COLUMNS.split(", ")
  .map((c) => `m.${c}`)
  .join(", ");

/**
 * The change log read for the search cache's roll-forward, in one read transaction (head, log
 * entries and current states from one snapshot). The log is gap-free per collection, so
 * counting the entries after a position against the head tells whether any were pruned.
 */
export class EmbeddedChangeFeed implements ChangeFeed {
  private readonly headStmt;
  private readonly countStmt;
  private readonly changedStmt;
  private readonly read;

  constructor(db: Database, now: Clock = systemClock) {
    this.headStmt = db.prepare<{ seq: number }, [string]>("SELECT seq FROM memory_change_heads WHERE collection_id = ?");
    this.countStmt = db.prepare<{ logged: number; last: number | null }, [string, number]>(
      "SELECT count(*) AS logged, max(seq) AS last FROM memory_changes WHERE collection_id = ? AND seq > ?",
    );
    this.changedStmt = db.prepare<ChangedRow, [string, number, string, string]>(
      `SELECT c.memory_id AS changed_id, c.seq AS changed_seq,
              (m.seq IS NOT NULL AND (m.expires_at IS NULL OR m.expires_at > ?4)) AS present,
              ${memoryColumns}, e.embedding, m.embedding_model
       FROM (SELECT memory_id, max(seq) AS seq FROM memory_changes WHERE collection_id = ?1 AND seq > ?2 GROUP BY memory_id) AS c
       LEFT JOIN memories AS m ON m.collection_id = ?3 AND m.id = c.memory_id
       LEFT JOIN memory_embeddings AS e ON e.seq = m.seq`,
    );
    this.read = db.transaction((collectionId: string, afterSeq: number, maxChanges: number): ChangedMemories | null => {
      const head = this.headStmt.get(collectionId)?.seq ?? 0;
      if (head === afterSeq) return { seq: afterSeq, present: [], gone: [] };
      if (head < afterSeq || head - afterSeq > maxChanges) return null;
      const { logged, last } = this.countStmt.get(collectionId, afterSeq)!;
      if (logged !== head - afterSeq) return null; // pruned
      const changes: ChangedMemories = { seq: last!, present: [], gone: [] };
      for (const row of this.changedStmt.all(collectionId, afterSeq, collectionId, new Date(now()).toISOString())) {
        if (row.present && row.embedding !== null) {
          changes.present.push({ seq: row.changed_seq, memory: toMemory(row), embedding: float32FromBytes(row.embedding), model: row.embedding_model });
        } else {
          changes.gone.push({ id: row.changed_id, seq: row.changed_seq });
        }
      }
      return changes;
    });
  }

  async head(collectionId: string): Promise<number> {
    return this.headStmt.get(collectionId)?.seq ?? 0;
  }

  async changedSince(collectionId: string, afterSeq: number, maxChanges: number): Promise<ChangedMemories | null> {
    return this.read(collectionId, afterSeq, maxChanges);
  }
}
