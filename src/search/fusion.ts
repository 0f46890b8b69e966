import type { Hit } from "../domain/search";

/** The usual constant of reciprocal rank fusion (Cormack et al., 2009). */
export const RRF_K = 60;

/** Reciprocal rank fusion: score(d) = Σ w_i / (k + rank_i(d)), ranks from 1, weights default 1. */
export function reciprocalRankFusion(rankings: Hit[][], limit: number, k = RRF_K, weights: readonly number[] = []): Hit[] {
  const scores = new Map<string, number>();
  rankings.forEach((ranking, r) => {
    const weight = weights[r] ?? 1;
    ranking.forEach((hit, index) => {
      scores.set(hit.id, (scores.get(hit.id) ?? 0) + weight / (k + index + 1));
    });
  });
  return [...scores.entries()]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .slice(0, limit);
}
