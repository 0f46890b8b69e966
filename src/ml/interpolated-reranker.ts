/**
 * A `Reranker` that blends another reranker's scores with the first-stage order instead of
 * replacing it. The pipeline hands candidates over in their retrieval (hybrid fusion) order,
 * so position i carries the first stage's evidence; a cross-encoder alone throws that away,
 * and on public data (docs/quality.md) a small cross-encoder alone ranks worse than hybrid.
 *
 *   score_i = w · minmax(inner_i) + (1 − w) · minmax(1 / (k + i + 1))
 *
 * Min-max scaling puts both on [0, 1] per search, whatever the inner model's score range.
 */
import type { Reranker } from "../ports/reranker";

export interface InterpolationOptions {
  /** Weight of the inner reranker's score, in [0, 1]. */
  weight: number;
  /** Rank constant of the first-stage prior (as in reciprocal rank fusion). */
  rankK: number;
}

function minMax(values: number[]): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo;
  return values.map((v) => (span > 0 ? (v - lo) / span : 0));
}

export function interpolatedReranker(inner: Reranker, opts: InterpolationOptions): Reranker {
  if (!(opts.weight >= 0 && opts.weight <= 1)) throw new RangeError(`weight must be in [0, 1], got ${opts.weight}`);
  return {
    model: `${inner.model} (interpolated w=${opts.weight}, k=${opts.rankK})`,
    async score(query, documents) {
      const scores = minMax(await inner.score(query, documents));
      const prior = minMax(documents.map((_, i) => 1 / (opts.rankK + i + 1)));
      return scores.map((s, i) => opts.weight * s + (1 - opts.weight) * prior[i]!);
    },
    noteForegroundWork: inner.noteForegroundWork?.bind(inner),
    close: () => inner.close(),
  };
}
