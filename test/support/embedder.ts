/**
 * One real embedder for the whole `bun test` run (all files share one process): created on
 * first use, never closed (its worker is unref'd while idle, so it does not hold the process).
 * The model folder comes from EMBEDDING_MODEL_DIR, default models/all-minilm-l6-v2
 * (`bun run scripts/fetch-models.ts` creates it).
 */
import type { Embedder } from "../../src/ports/embedder";
import { createOnnxEmbedder, type OnnxEmbedder } from "../../src/ml/embedder";

export const TEST_MODEL_DIR = process.env.EMBEDDING_MODEL_DIR || "models/all-minilm-l6-v2";

let shared: Promise<OnnxEmbedder> | null = null;

export function sharedEmbedder(): Promise<OnnxEmbedder & Embedder> {
  if (!shared) {
    shared = createOnnxEmbedder({ modelDir: TEST_MODEL_DIR });
    // A failed load is not cached, so the next caller retries (and sees the same error).
    shared.catch(() => {
      shared = null;
    });
  }
  return shared;
}
