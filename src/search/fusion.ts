import type { Hit } from "../domain/search";

/** The usual constant of reciprocal rank fusion (Cormack et al., 2009). */
export const RRF_K = 60;

/** Reciprocal rank fusion: score(d) = Σ 1 / (k + rank_i(d)), ranks from 1. */
export function reciprocalRankFusion(rankings: Hit[][], limit: number, k = RRF_K): Hit[] {
  const scores = new Map<string, number>();
  for (const ranking of rankings) {
    ranking.forEach((hit, index) => {
      scores.set(hit.id, (scores.get(hit.id) ?? 0) + 1 / (k + index + 1));
    });
  }
  return [...scores.entries()]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .slice(0, limit);
}
