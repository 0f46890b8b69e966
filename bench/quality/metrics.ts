/** Ranking metrics with binary relevance, as BEIR computes them (recall is over all relevant ids). */

export interface RankingScores {
  "R@1": number;
  "R@5": number;
  "R@10": number;
  "MRR@10": number;
  "nDCG@10": number;
}

export const METRIC_NAMES: (keyof RankingScores)[] = ["R@1", "R@5", "R@10", "MRR@10", "nDCG@10"];

export function scoreRanking(ranked: string[], relevant: ReadonlySet<string>): RankingScores {
  const hitsAt = (k: number) => ranked.slice(0, k).filter((id) => relevant.has(id)).length;
  const first = ranked.slice(0, 10).findIndex((id) => relevant.has(id));
  let dcg = 0;
  ranked.slice(0, 10).forEach((id, i) => {
    if (relevant.has(id)) dcg += 1 / Math.log2(i + 2);
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(10, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  const n = relevant.size;
  return {
    "R@1": hitsAt(1) / n,
    "R@5": hitsAt(5) / n,
    "R@10": hitsAt(10) / n,
    "MRR@10": first < 0 ? 0 : 1 / (first + 1),
    "nDCG@10": ideal === 0 ? 0 : dcg / ideal,
  };
}

export function meanScores(all: RankingScores[]): RankingScores {
  const out = { "R@1": 0, "R@5": 0, "R@10": 0, "MRR@10": 0, "nDCG@10": 0 };
  for (const s of all) for (const m of METRIC_NAMES) out[m] += s[m] / all.length;
  return out;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
