import type { Logger } from "../log.ts";
import type { Hit, SearchFilter } from "../domain/search.ts";
import type { FreshTail, PendingVector } from "../ports/fresh-tail.ts";
import type { VectorIndex } from "../ports/vector-index.ts";
import { matchesFilter } from "./filters/match.ts";
import { cosine } from "../domain/dedupe.ts";

/** Best first; equal scores by id, so the merged order does not depend on which side a hit came from. */
export function byScore(a: Hit, b: Hit): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const OVERFLOW_WARN_INTERVAL_MS = 60_000;

/**
 * A vector index that answers as if every acknowledged write were already searchable: the
 * index's hits merged, exactly, with the collection's fresh tail (the writes the index has not
 * confirmed yet, read from the source of truth). A pending memory's current state is scored
 * here with the index's metric and filtered with the reference filter semantics; the index's
 * hit for a pending or deleted memory is dropped (it may be an older version). So a write can
 * be acknowledged once it is committed, without waiting for the index's next time tick, and
 * read-your-writes still holds.
 *
 * The answer equals the index's own after delivery (up to the index's approximation: pending
 * memories are scored exactly, HNSW's hits are approximate). When masking leaves fewer than k
 * hits, the index is asked again for k plus the masked count.
 */
export class FreshTailVectorIndex implements VectorIndex {
  private lastOverflowWarning = 0;

  constructor(
    private readonly inner: VectorIndex,
    private readonly tail: FreshTail,
    private readonly log: Logger,
  ) {}

  async search(collectionId: string, vector: Float32Array, k: number, filter: SearchFilter): Promise<Hit[]> {
    const [changes, hits] = await Promise.all([this.tail.pending(collectionId), this.inner.search(collectionId, vector, k, filter)]);
    if (changes.present.length === 0 && changes.gone.length === 0) return hits;
    if (!changes.complete) this.warnOverflow(collectionId, changes.present.length + changes.gone.length);

    const masked = new Set<string>(changes.gone);
    for (const p of changes.present) masked.add(p.memory.id);
    let kept = hits.filter((h) => !masked.has(h.id));
    if (kept.length < k && hits.length >= k) {
      const wider = await this.inner.search(collectionId, vector, k + masked.size, filter);
      kept = wider.filter((h) => !masked.has(h.id));
    }
    const fresh = scored(changes.present, vector, filter);
    return [...kept, ...fresh].sort(byScore).slice(0, Math.max(0, k));
  }

  private warnOverflow(collectionId: string, read: number): void {
    const now = Date.now();
    if (now - this.lastOverflowWarning < OVERFLOW_WARN_INTERVAL_MS) return;
    this.lastOverflowWarning = now;
    this.log.warn("fresh tail larger than one read: searches may miss writes the vector index has not delivered yet", {
      collection_id: collectionId,
      read,
    });
  }
}

function scored(pending: PendingVector[], vector: Float32Array, filter: SearchFilter): Hit[] {
  const hits: Hit[] = [];
  for (const p of pending) {
    // another model's vector (a re-embedding under way) cannot be compared; the index would not hold it either
    if (p.embedding.length !== vector.length || !matchesFilter(p.memory, filter)) continue;
    hits.push({ id: p.memory.id, score: cosine(vector, p.embedding) }); // as Milvus COSINE scores
  }
  return hits;
}
