import { float32FromBytes } from "../../../domain/vector-bytes.ts";
import type { AnnGraph } from "./library.ts";
import type { RowVector } from "./queries.ts";

/**
 * One collection's HNSW graph and the change-log position it reflects. Keys are `memories.seq`
 * (stable across updates, never reused), so applying the current state of a changed row is
 * idempotent: present rows are (re)placed, missing ones removed.
 */
export class CollectionIndex {
  /** Changes applied since the graph was last saved. */
  unsaved = 0;
  /** Rows removed or replaced since the build: USearch leaves a tombstone for each. */
  tombstones = 0;

  constructor(
    readonly graph: AnnGraph,
    /** The change-log head the graph reflects. */
    public seq: number,
    /** The collection's vectors epoch the graph was built at. */
    readonly epoch: number,
  ) {}

  /** Adds rows in one call (the graph grows its storage once per call). */
  add(rows: ReadonlyArray<RowVector & { embedding: Uint8Array }>): void {
    if (rows.length === 0) return;
    const d = this.graph.dimensions();
    const keys = new BigUint64Array(rows.length);
    const vectors = new Float32Array(rows.length * d);
    rows.forEach((row, i) => {
      keys[i] = BigInt(row.key);
      vectors.set(float32FromBytes(row.embedding), i * d);
    });
    this.graph.add(keys, vectors);
  }

  /** Brings the graph to the current state of the rows the log named since `seq`, up to `head`. */
  apply(changed: ReadonlyArray<RowVector>, head: number): void {
    const present: (RowVector & { embedding: Uint8Array })[] = [];
    for (const row of changed) {
      if (this.graph.remove(BigInt(row.key))) this.tombstones++;
      if (row.embedding !== null) present.push(row as RowVector & { embedding: Uint8Array });
    }
    this.add(present);
    this.unsaved += changed.length;
    this.seq = head;
  }
}
