/**
 * The recorded quality floors of test/quality/quality-floor.test.ts, in one place: each is
 * a little below (about 0.03) what the slice measured, so noise does not fail CI but a real
 * regression does. Re-measure after a deliberate change with
 *   npx bun test test/quality/quality-floor.test.ts   (it prints the measured values)
 * and update the date and values together.
 *
 * Measured: PLACEHOLDER
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
      semantic: { "R@5": 0, "R@10": 0 },
      keyword: { "R@5": 0, "R@10": 0 },
      hybrid: { "R@5": 0, "R@10": 0 },
      graph: { "R@5": 0, "R@10": 0 },
      "hybrid+rerank": { "R@5": 0, "R@10": 0 },
    },
    "climate-fever": {
      semantic: { "R@5": 0, "R@10": 0 },
      keyword: { "R@5": 0, "R@10": 0 },
      hybrid: { "R@5": 0, "R@10": 0 },
      graph: { "R@5": 0, "R@10": 0 },
      "hybrid+rerank": { "R@5": 0, "R@10": 0 },
    },
  },
};
