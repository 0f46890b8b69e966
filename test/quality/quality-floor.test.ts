/**
 * Retrieval quality must not fall below its recorded floors (floors.ts) on a small fixed slice
 * of the public, human-labelled sets in bench/data, run through the public API with the
 * default configuration (the configured embedding model, default hybrid fusion, the premium
 * reranker premium ships). The full eval is `bun run bench:quality`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config";
import { loadDataset, sliceDataset } from "../../bench/quality/dataset";
import { evaluateDataset, type DatasetResult } from "../../bench/quality/eval";
import { openQualityApp, type QualityApp } from "../../bench/quality/app";
import { openRerankerByName, DEFAULT_PREMIUM_RERANKER } from "../../bench/quality/rerankers";
import { sharedEmbedder, TEST_MODEL_DIR } from "../support/embedder";
import type { Reranker } from "../../src/ports/reranker";
import { FLOORS, FLOOR_SLICE } from "./floors";

const config = loadConfig({});
const modelName = TEST_MODEL_DIR.split("/").filter(Boolean).pop()!;

// Floors are recorded for one model; a run on another model (EMBEDDING_MODEL_DIR) has none to meet.
const floorsForModel = FLOORS[modelName];

describe.skipIf(!floorsForModel)(`retrieval quality floors (${modelName})`, () => {
  let app: QualityApp;
  let reranker: Reranker;
  const results = new Map<string, DatasetResult>();

  beforeAll(async () => {
    reranker = await openRerankerByName(DEFAULT_PREMIUM_RERANKER);
    app = await openQualityApp({
      embeddingModelDir: TEST_MODEL_DIR,
      embedder: await sharedEmbedder(),
      reranker,
      rerankCandidates: config.reranker.candidates,
      hybridCandidates: config.search.hybridCandidates,
      hybrid: {
        rrfK: config.search.hybridRrfK,
        semanticWeight: config.search.hybridSemanticWeight,
        keywordWeight: config.search.hybridKeywordWeight,
      },
    });
    for (const name of Object.keys(floorsForModel!)) {
      const slice = sliceDataset(loadDataset(name), "test", FLOOR_SLICE.queries, FLOOR_SLICE.documents[name]!);
      const result = await evaluateDataset(app.call, slice, { split: "test", modes: Object.keys(floorsForModel![name]!) as never });
      results.set(name, result);
      for (const m of result.modes) {
        console.log(`[quality-floor] ${name} ${m.mode}: R@5 ${m.scores["R@5"].toFixed(3)} R@10 ${m.scores["R@10"].toFixed(3)}`);
      }
    }
  }, 600_000); // a guard against a hang, not a speed check: a busy 2-core box ingests the slice slowly

  afterAll(async () => {
    await app?.close();
    await reranker?.close();
  });

  for (const [dataset, modes] of Object.entries(floorsForModel ?? {})) {
    for (const [mode, floor] of Object.entries(modes)) {
      test(`${dataset}: ${mode} stays above R@5 ${floor["R@5"]} and R@10 ${floor["R@10"]}`, () => {
        const got = results.get(dataset)!.modes.find((m) => m.mode === mode)!;
        expect(got.rerankFallbacks).toBe(0);
        expect(got.scores["R@5"]).toBeGreaterThanOrEqual(floor["R@5"]);
        expect(got.scores["R@10"]).toBeGreaterThanOrEqual(floor["R@10"]);
      });
    }
  }
});
