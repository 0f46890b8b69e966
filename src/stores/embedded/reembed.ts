import type { Database } from "bun:sqlite";
import type { PendingMemory, ReembedState, ReembedStore, EmbeddedPending } from "../../ports/reembed-store.ts";
import { assertEmbedding } from "../shared/checks.ts";

const STATE_COLUMNS = "id, owner, name, embedding_model, reembed_target, reembed_checkpoint";

/**
 * Re-embedding in the embedded database. A batch of new vectors (vec0 row, scanned copy, the
 * memory's model) and the checkpoint commit in one immediate transaction, so a killed run loses
 * at most the batch it was embedding, and writers wait at most one batch's commit.
 */
export class EmbeddedReembedStore implements ReembedStore {
  private readonly allStmt;
  private readonly getStmt;
  private readonly beginStmt;
  private readonly countStmt;
  private readonly pendingStmt;
  private readonly writeTx;
  private readonly finishStmt;

  constructor(
    db: Database,
    private readonly dimensions: number,
  ) {
    this.allStmt = db.prepare<ReembedState, []>(`SELECT ${STATE_COLUMNS} FROM collections ORDER BY created_at, rowid`);
    this.getStmt = db.prepare<ReembedState, [string]>(`SELECT ${STATE_COLUMNS} FROM collections WHERE id = ?`);
    this.beginStmt = db.prepare<ReembedState, [string, string, string]>(
      `UPDATE collections
       SET reembed_checkpoint = CASE WHEN reembed_target IS ? THEN reembed_checkpoint ELSE 0 END, reembed_target = ?
       WHERE id = ? RETURNING ${STATE_COLUMNS}`,
    );
    this.countStmt = db.prepare<{ total: number; pending: number }, [string, string]>(
      `SELECT count(*) AS total, coalesce(sum(embedding_model IS NOT ?), 0) AS pending FROM memories WHERE collection_id = ?`,
    );
    this.pendingStmt = db.prepare<PendingMemory, [string, number, string, number]>(
      `SELECT seq, id, content FROM memories
       WHERE collection_id = ? AND seq > ? AND embedding_model IS NOT ?
       ORDER BY seq LIMIT ?`,
    );
    const claim = db.prepare<{ seq: number }, [string, string, number, string, string]>(
      `UPDATE memories SET embedding_model = ?
       WHERE collection_id = ? AND seq = ? AND content = ? AND embedding_model IS NOT ? RETURNING seq`,
    );
    const vector = db.prepare<null, [Float32Array, number]>("UPDATE memory_vectors SET embedding = ? WHERE rowid = ?");
    const scanned = db.prepare<null, [number, Float32Array]>("INSERT OR REPLACE INTO memory_embeddings (seq, embedding) VALUES (?, ?)");
    const checkpoint = db.prepare<{ id: string }, [number, string, string]>(
      `UPDATE collections SET reembed_checkpoint = max(reembed_checkpoint, ?) WHERE id = ? AND reembed_target = ? RETURNING id`,
    );
    // vectors written outside the change log: the ANN indexes (ann/) see the epoch move
    const bumpEpoch = db.prepare<null, [string]>("UPDATE collections SET vectors_epoch = vectors_epoch + 1 WHERE id = ?");
    this.writeTx = db.transaction(
      (id: string, target: string, items: ReadonlyArray<PendingMemory & { embedding: Float32Array }>, upTo: number): number => {
        // Another run took the collection elsewhere (or it is gone): write nothing.
        if (checkpoint.get(upTo, id, target) === null) return 0;
        let written = 0;
        for (const item of items) {
          if (claim.get(target, id, item.seq, item.content, target) === null) continue;
          vector.run(item.embedding, item.seq);
          scanned.run(item.seq, item.embedding);
          written++;
        }
        if (written > 0) bumpEpoch.run(id);
        return written;
      },
    );
    this.finishStmt = db.prepare<{ id: string }, [string, string, string, string]>(
      `UPDATE collections SET embedding_model = ?, reembed_target = NULL, reembed_checkpoint = 0
       WHERE id = ? AND reembed_target = ?
         AND NOT EXISTS (SELECT 1 FROM memories WHERE collection_id = collections.id AND embedding_model IS NOT ?)
       RETURNING id`,
    );
  }

  async collections(): Promise<ReembedState[]> {
    return this.allStmt.all();
  }

  async collection(id: string): Promise<ReembedState | null> {
    return this.getStmt.get(id);
  }

  async begin(id: string, target: string): Promise<ReembedState | null> {
    return this.beginStmt.get(target, target, id);
  }

  async count(id: string, target: string): Promise<{ total: number; pending: number }> {
    return this.countStmt.get(target, id)!;
  }

  async pending(id: string, target: string, afterSeq: number, limit: number): Promise<PendingMemory[]> {
    return this.pendingStmt.all(id, afterSeq, target, limit);
  }

  async write(id: string, target: string, items: ReadonlyArray<EmbeddedPending>, checkpoint: number): Promise<number> {
    items.forEach((item, i) => assertEmbedding(item.embedding, this.dimensions, `items[${i}].embedding`));
    return this.writeTx.immediate(id, target, items, checkpoint);
  }

  /** Vectors are written with their memories: nothing lags. */
  async settle(): Promise<boolean> {
    return true;
  }

  async finish(id: string, target: string): Promise<boolean> {
    return this.finishStmt.get(target, id, target, target) !== null;
  }
}
