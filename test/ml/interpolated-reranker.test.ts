import { describe, expect, test } from "bun:test";
import { interpolatedReranker } from "../../src/ml/interpolated-reranker";
import type { Reranker } from "../../src/ports/reranker";

const fixed = (scores: number[]): Reranker => ({ model: "fixed", score: async () => scores, close: async () => {} });

describe("interpolatedReranker", () => {
  test("weight 1 is the inner order, weight 0 the first-stage order", async () => {
    const inner = fixed([0.1, 0.9, 0.5]);
    const order = (s: number[]) => s.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
    expect(order(await interpolatedReranker(inner, { weight: 1, rankK: 60 }).score("q", ["a", "b", "c"]))).toEqual([1, 2, 0]);
    expect(order(await interpolatedReranker(inner, { weight: 0, rankK: 60 }).score("q", ["a", "b", "c"]))).toEqual([0, 1, 2]);
  });

  test("a strong first-stage lead survives a small inner preference", async () => {
    const scores = await interpolatedReranker(fixed([0.45, 0.5, 0]), { weight: 0.5, rankK: 1 }).score("q", ["a", "b", "c"]);
    expect(scores[0]!).toBeGreaterThan(scores[1]!);
  });

  test("rejects a weight outside [0, 1]", () => {
    expect(() => interpolatedReranker(fixed([]), { weight: 1.5, rankK: 60 })).toThrow(RangeError);
  });
});
