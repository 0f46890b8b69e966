/** The premium rerankers the eval can compare, by name. */
import { createOnnxReranker } from "../../src/ml/reranker";
import type { Reranker } from "../../src/stores/ports";

export const RERANKER_NAMES = ["cross-encoder"];
export const DEFAULT_PREMIUM_RERANKER = "cross-encoder";

export async function openRerankerByName(name: string): Promise<Reranker> {
  switch (name) {
    case "cross-encoder":
      // the eval asks one search at a time: no CPU yielding, and no time limit that would
      // answer unreranked
      return createOnnxReranker({ modelDir: "models/reranker", idleScheduling: false, maxWaitMs: 600_000 });
    default:
      throw new Error(`unknown reranker ${name}`);
  }
}
