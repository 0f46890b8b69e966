/**
 * Near-duplicates on ingest (issue 19): deterministic, no LLM. A new memory whose embedding is
 * at least `threshold` cosine-similar to a memory already there is a duplicate of it; the request
 * says what becomes of it. The rules, in one place (the routes and docs/api.md follow them):
 *
 * - `off` (default): every item is written, as before.
 * - `skip`: a duplicate is not written; its id in the answer is the memory it matched.
 * - `merge`: a duplicate is not written either; the memory it matched is kept (content, graph,
 *   created_at unchanged) and gets `mergeMetadata(existing, new)` and `laterExpiry(existing, new)`,
 *   written as a patch by the caller (change log, indexes and cached searches follow).
 *
 * Only items without an `id` are candidates: an item with an id is an upsert of that id, never
 * deduplicated, and never matched by an earlier item.
 */
import type { Metadata } from "./memory.ts";

export type DedupeMode = "off" | "skip" | "merge";

/** The similarity threshold when neither the request nor the collection names one. */
export const DEFAULT_DEDUPE_THRESHOLD = 0.95;

/** The thresholds a request or a collection may set: below 0.5, "near-duplicate" means little. */
export const DEDUPE_THRESHOLD_RANGE = { minimum: 0.5, maximum: 1 } as const;

/** What became of one item of a request (by its index in `memories`). */
export interface DedupeOutcome {
  index: number;
  action: "created" | "skipped" | "merged";
  /** The memory it matched (skipped, merged). */
  matched_id?: string;
  /** Cosine similarity to that memory, rounded to 4 decimals. */
  similarity?: number;
}

/** Cosine similarity of two vectors of the same length (0 when either is all zeros). */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Shallow merge: the existing memory's keys, then the new item's (a key in both: the new value). */
export function mergeMetadata(existing: Metadata, incoming: Metadata): Metadata {
  return { ...existing, ...incoming };
}

/** The later of two expiries (ISO-8601); null is never, the latest of all. */
export function laterExpiry(a: string | null, b: string | null): string | null {
  if (a === null || b === null) return null;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/** A similarity as answered: 4 decimals, never above 1 (float noise on identical texts). */
export const roundSimilarity = (similarity: number): number => Math.min(1, Math.round(similarity * 10_000) / 10_000);
