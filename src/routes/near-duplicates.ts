/**
 * Which items of a write are near-duplicates, and of what (rules: src/domain/dedupe.ts). Each
 * item without an id is compared with
 *
 * - the collection's nearest live memory (the VectorIndex, k = 1, widened only past memories
 *   that are expired but not yet purged, or that this batch upserts by id: those are about to
 *   be replaced, so their old content is no match);
 * - the earlier items of the batch that are written (items with an id, and items kept as new).
 *
 * The most similar of these wins; a tie goes to the stored memory. A match counts when its
 * similarity is at least the threshold. Identical content is similarity 1 exactly: the int8
 * model embeds one text slightly differently in different batches (measured ~0.993 for the same
 * sentence), so a threshold of 1 means "the same text".
 */
import { MATCH_ALL } from "../domain/search";
import { cosine, type DedupeMode } from "../domain/dedupe";
import type { Memory } from "../domain/memory";
import type { MemoryStore } from "../ports/memory-store";
import type { VectorIndex } from "../ports/vector-index";

/** Nearest-neighbour lookups of one request at a time (production: calls to Milvus). */
const LOOKUPS_IN_FLIGHT = 8;
/** The widest k a lookup asks for when the nearest hits are all passed over. */
const MAX_K = 1024;

export interface DedupeSettings {
  mode: Exclude<DedupeMode, "off">;
  threshold: number;
}

/** One item's fate: written (`new`), or a duplicate of a stored memory or of an earlier item. */
export type Verdict =
  | { kind: "new" }
  | { kind: "stored"; memory: Memory; similarity: number }
  | { kind: "batch"; index: number; similarity: number };

export interface NearDuplicateDeps {
  vectors: VectorIndex;
  memories: MemoryStore;
}

/** The nearest live memory of the collection outside `passOver` to `vector`, the embedding of `content`; null when none. */
export async function nearestStored(
  deps: NearDuplicateDeps,
  collectionId: string,
  content: string,
  vector: Float32Array,
  passOver: ReadonlySet<string>,
): Promise<{ memory: Memory; similarity: number } | null> {
  let k = 1 + passOver.size;
  for (;;) {
    const hits = await deps.vectors.search(collectionId, vector, Math.min(k, MAX_K), MATCH_ALL);
    const candidates = hits.filter((hit) => !passOver.has(hit.id));
    if (candidates.length > 0) {
      // Hydration shows only live memories: expired ones not yet purged from the index drop out.
      const live = new Map((await deps.memories.hydrate(collectionId, candidates.map((hit) => hit.id))).map((m) => [m.id, m]));
      for (const hit of candidates) {
        const memory = live.get(hit.id);
        if (memory) return { memory, similarity: memory.content === content ? 1 : hit.score };
      }
    }
    if (hits.length < k || k >= MAX_K) return null;
    k = k * 4 + 16;
  }
}

/** Runs `task` over `items`, at most `limit` at a time; answers in the order of `items`. */
async function mapLimited<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The verdict of each item (by index): `ids[i]` is the id given, or undefined for a new item;
 * `embeddings[i]` the embedding of `contents[i]`.
 */
export async function judgeNearDuplicates(
  deps: NearDuplicateDeps,
  collectionId: string,
  items: { ids: (string | undefined)[]; contents: string[]; embeddings: Float32Array[] },
  threshold: number,
): Promise<Verdict[]> {
  const { ids, contents, embeddings } = items;
  const upserted = new Set(ids.filter((id): id is string => id !== undefined));
  const fresh = ids.flatMap((id, i) => (id === undefined ? [i] : []));
  const stored = new Map<number, { memory: Memory; similarity: number } | null>();
  const found = await mapLimited(fresh, LOOKUPS_IN_FLIGHT, (i) => nearestStored(deps, collectionId, contents[i]!, embeddings[i]!, upserted));
  fresh.forEach((i, n) => stored.set(i, found[n]!));

  const written: number[] = [];
  const verdicts: Verdict[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== undefined) {
      verdicts.push({ kind: "new" });
      written.push(i);
      continue;
    }
    let best: Verdict = { kind: "new" };
    let bestSimilarity = -Infinity;
    const match = stored.get(i);
    if (match) {
      best = { kind: "stored", ...match };
      bestSimilarity = match.similarity;
    }
    for (const j of written) {
      const similarity = contents[i] === contents[j] ? 1 : cosine(embeddings[i]!, embeddings[j]!);
      if (similarity > bestSimilarity) {
        best = { kind: "batch", index: j, similarity };
        bestSimilarity = similarity;
      }
    }
    if (best.kind !== "new" && bestSimilarity >= threshold) {
      verdicts.push(best);
    } else {
      verdicts.push({ kind: "new" });
      written.push(i);
    }
  }
  return verdicts;
}
