/** The premium rerankers the eval can compare, by name. */
import { loadConfig } from "../../src/config";
import { createOnnxReranker } from "../../src/ml/reranker";
import { premiumReranker } from "../../src/runtime/reranker";
import type { Reranker } from "../../src/ports/reranker";

export const RERANKER_NAMES = ["cross-encoder", "interpolated"];
/** What premium ships with the default configuration (src/runtime/reranker.ts premiumReranker). */
export const DEFAULT_PREMIUM_RERANKER = "interpolated";

/**
 * The cross-encoder folder and pair length come from RERANKER_MODEL_DIR and RERANK_MAX_LENGTH, as
 * the server reads them; `override.maxLength` compares another pair length in one run.
 */
export async function openRerankerByName(name: string, override: { maxLength?: number } = {}): Promise<Reranker> {
  const configured = loadConfig(process.env).reranker;
  const modelDir = configured.modelDir;
  const maxLength = override.maxLength ?? configured.maxLength;
  // the eval asks one search at a time: no CPU yielding, normal priority (a loaded machine would
  // starve a niced thread), and no time limit that would answer unreranked
  const crossEncoder = () => createOnnxReranker({ modelDir, maxLength, idleScheduling: false, nice: 0, maxWaitMs: 600_000 });
  switch (name) {
    case "cross-encoder":
      return crossEncoder();
    case "interpolated": {
      // the default RERANK_INTERPOLATION_* settings, as the runtimes wire them
      const config = loadConfig(process.env);
      return premiumReranker(config, await crossEncoder())!;
    }
    default:
      throw new Error(`unknown reranker ${name}`);
  }
}
