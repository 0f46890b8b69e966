import { float32FromBytes } from "../domain/vector-bytes";
import { cosine } from "../domain/dedupe";
import type { Memory } from "../domain/memory";
import type { SearchFilter } from "../domain/search";
import type { ChangedMemories } from "../ports/change-feed";
import { byScore } from "./fresh-tail-index";
import { matchesFilter } from "./filters/match";
import type { SearchResult } from "./request";

/**
 * What a semantic answer keeps so that it can be brought up to date after writes instead of
 * being computed again (the search cache's roll-forward).
 *
 * `candidates` are the best `size` memories matching the search's filter when the collection's
 * change log stood at `seq` (top_k plus a margin), best first, and every memory not among them
 * scored at most `threshold` (null: there are no others, the candidates are every match). A
 * change after `seq` is applied exactly: the changed memory leaves the candidates and, when it
 * still exists, matches the filter and scores at least the threshold, comes back with its new
 * score (the query's vector is kept for that). Memories that did not change keep their score,
 * and the ones outside the candidates stay at or below the threshold, so while at least top_k
 * candidates remain, the first top_k are the answer a fresh computation over the same index
 * would give. When deletions have eaten the margin, the search is computed again.
 */
export interface RollState {
  v: 1;
  seq: number;
  /** The query's embedding, Float32 little-endian, base64. */
  vector: string;
  size: number;
  threshold: number | null;
  /** The earliest `expires_at` among the candidates (epoch ms): the state is void from then on. */
  expiresAtMs: number | null;
  candidates: SearchResult[];
}

export function encodeVector(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64");
}

export function decodeVector(text: string): Float32Array {
  return float32FromBytes(Buffer.from(text, "base64"));
}

/** A memory as a search result (`path`: how a graph search reached it). */
export function resultOf(memory: Memory, score: number, path?: string[]): SearchResult {
  return {
    id: memory.id,
    content: memory.content,
    metadata: memory.metadata,
    score,
    created_at: memory.created_at,
    ...(memory.expires_at ? { expires_at: memory.expires_at } : {}),
    ...(path ? { path } : {}),
  };
}

/** The earliest `expires_at` among results (epoch ms), null when none expires. */
export function earliestExpiry(results: SearchResult[]): number | null {
  let at: number | null = null;
  for (const r of results) {
    if (!r.expires_at) continue;
    const ms = Date.parse(r.expires_at);
    if (at === null || ms < at) at = ms;
  }
  return at;
}

/**
 * The state of a search just computed: `ranked` are the index's hits that the source of truth
 * still holds, best first; `exhaustive` says the index returned fewer hits than asked (it has
 * no others), else `lowestIndexScore` is the score of its last hit.
 */
export function freshState(input: {
  seq: number;
  vector: Float32Array;
  size: number;
  ranked: SearchResult[];
  exhaustive: boolean;
  lowestIndexScore: number | null;
}): RollState {
  const candidates = input.ranked.slice(0, input.size);
  let threshold = input.exhaustive ? null : input.lowestIndexScore;
  // more were retrieved than kept (a second, wider retrieval): the cut is the threshold now
  if (input.ranked.length > input.size) threshold = candidates.at(-1)!.score;
  return {
    v: 1,
    seq: input.seq,
    vector: encodeVector(input.vector),
    size: input.size,
    threshold,
    expiresAtMs: earliestExpiry(candidates),
    candidates,
  };
}

/** Why a state could not be rolled forward (then the search is computed again). */
export type RollRefusal = "expired" | "margin_spent" | "other_model";

/**
 * `state` brought up to `changes.seq`, or why it cannot be exactly. `model`: the embedding model
 * of the query's vector; a changed memory embedded by another one (a re-embedding under way)
 * cannot be compared with it.
 */
export function rollForward(
  state: RollState,
  changes: ChangedMemories,
  filter: SearchFilter,
  topK: number,
  nowMs: number,
  model: string,
): RollState | RollRefusal {
  if (state.expiresAtMs !== null && nowMs >= state.expiresAtMs) return "expired";
  if (changes.present.length === 0 && changes.gone.length === 0) return { ...state, seq: Math.max(state.seq, changes.seq) };
  const changed = new Set(changes.gone.map((g) => g.id));
  for (const c of changes.present) changed.add(c.memory.id);
  const candidates = state.candidates.filter((c) => !changed.has(c.id));
  const vector = decodeVector(state.vector);
  for (const c of changes.present) {
    if (c.embedding.length !== vector.length || (c.model !== null && c.model !== model)) return "other_model";
    // expired since it was read (an expiry is logged only once the sweeper purges it)
    if (c.memory.expires_at && Date.parse(c.memory.expires_at) <= nowMs) continue;
    if (!matchesFilter(c.memory, filter)) continue;
    const score = cosine(vector, c.embedding);
    if (state.threshold !== null && score < state.threshold) continue;
    candidates.push(resultOf(c.memory, score));
  }
  candidates.sort(byScore);
  let threshold = state.threshold;
  if (candidates.length > state.size) {
    threshold = candidates[state.size - 1]!.score;
    candidates.length = state.size;
  }
  if (threshold !== null && candidates.length < topK) return "margin_spent";
  return {
    v: 1,
    seq: Math.max(state.seq, changes.seq),
    vector: state.vector,
    size: state.size,
    threshold,
    expiresAtMs: earliestExpiry(candidates),
    candidates,
  };
}

/** A state read back from the cache, or null when it is not one (another version, damaged). */
export function parseRollState(text: string): RollState | null {
  try {
    const value = JSON.parse(text) as Partial<RollState>;
    if (value.v !== 1 || typeof value.seq !== "number" || typeof value.vector !== "string" || !Array.isArray(value.candidates)) return null;
    return value as RollState;
  } catch {
    return null;
  }
}
