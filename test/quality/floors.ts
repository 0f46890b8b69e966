/**
 * The recorded quality floors of test/quality/quality-floor.test.ts, in one place: each is
 * a little below (about 0.03) what the slice measured, so noise does not fail CI but a real
 * regression does. Re-measure after a deliberate change with
 *   npx bun test test/quality/quality-floor.test.ts   (it prints the measured values)
 * and update the date and values together.
 *
 * Measured 2026-12-04 with `npx bun test test/quality/quality-floor.test.ts` (all-minilm-l6-v2, default
 * config: hybrid RRF k 20, weights 1/0.5, pool 50; premium = cross-encoder interpolated w 0.2, k 60).
 */
export const FLOOR_SLICE = {
  /** The first test queries of each set, in id order. */
  queries: 30,
  /** Their relevant documents plus the first ones in id order, up to this many. */
  documents: { scifact: 120, "climate-fever": 300 } as Record<string, number>,
};

type Floor = { "R@5": number; "R@10": number };

/** model folder name → data set → mode → floor */
export const FLOORS: Record<string, Record<string, Record<string, Floor>>> = {
  "all-minilm-l6-v2": {
    scifact: {
      semantic: { "R@5": 0.96, "R@10": 0.97 }, // measured 0.993 / 1.000
      keyword: { "R@5": 0.91, "R@10": 0.93 }, // measured 0.945 / 0.967
      hybrid: { "R@5": 0.96, "R@10": 0.96 }, // measured 0.993 / 0.993
      graph: { "R@5": 0.65, "R@10": 0.73 }, // measured 0.685 / 0.767
      "hybrid+rerank": { "R@5": 0.96, "R@10": 0.96 }, // measured 0.993 / 0.993
    },
    "climate-fever": {
      semantic: { "R@5": 0.65, "R@10": 0.78 }, // measured 0.685 / 0.818
      keyword: { "R@5": 0.62, "R@10": 0.69 }, // measured 0.653 / 0.728
      hybrid: { "R@5": 0.72, "R@10": 0.83 }, // measured 0.759 / 0.869
      graph: { "R@5": 0.4, "R@10": 0.47 }, // measured 0.430 / 0.502
      "hybrid+rerank": { "R@5": 0.7, "R@10": 0.84 }, // measured 0.733 / 0.878
    },
  },
};
