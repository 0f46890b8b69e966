/** The premium rerankers the eval can compare, by name. */
import { loadConfig } from "../../src/config";
import { createOnnxReranker } from "../../src/ml/reranker";
import { createOnnxEmbedder } from "../../src/ml/embedder";
import { biEncoderReranker } from "../../src/ml/bi-encoder-reranker";
import { premiumReranker } from "../../src/runtime/reranker";
import type { Reranker } from "../../src/ports/reranker";

export const RERANKER_NAMES = ["cross-encoder", "interpolated", "bi-encoder:e5-small-v2", "bi-encoder:bge-small-en-v1.5"];
/** What premium ships with the default configuration (src/runtime/reranker.ts premiumReranker). */
export const DEFAULT_PREMIUM_RERANKER = "interpolated";

/** A bi-encoder over the model folder `dir`, without the server's wait bound (the eval waits). */
const biEncoderIn = async (dir: string) => biEncoderReranker(await createOnnxEmbedder({ modelDir: dir }));

/**
 * `interpolated` is what premium ships with the environment's configuration (RERANKER_KIND and
 * RERANK_INTERPOLATION_*: the bi-encoder of RERANKER_BI_ENCODER_DIR by default,
 * `RERANKER_KIND=cross-encoder` for the cross-encoder). The cross-encoder folder and pair length come from RERANKER_MODEL_DIR and RERANK_MAX_LENGTH, as
 * the server reads them; `override.maxLength` compares another pair length in one run.
 */
export async function openRerankerByName(name: string, override: { maxLength?: number } = {}): Promise<Reranker> {
  // `bi-encoder:<folder under models/>`: a larger embedding model rescoring the candidates
  if (name.startsWith("bi-encoder:")) {
    return biEncoderIn(`models/${name.slice("bi-encoder:".length)}`);
  }
  const config = loadConfig(process.env);
  const configured = config.reranker;
  const modelDir = configured.modelDir;
  const maxLength = override.maxLength ?? configured.maxLength;
  // the eval asks one search at a time: no CPU yielding, normal priority (a loaded machine would
  // starve a niced thread), and no time limit that would answer unreranked
  const crossEncoder = () => createOnnxReranker({ modelDir, maxLength, idleScheduling: false, nice: 0, maxWaitMs: 600_000 });
  switch (name) {
    case "cross-encoder":
      return crossEncoder();
    case "interpolated": {
      // the configured RERANK_INTERPOLATION_* settings, as the runtimes wire them
      const scorer = configured.kind === "bi-encoder" ? await biEncoderIn(configured.biEncoderDir) : await crossEncoder();
      return premiumReranker(config, scorer)!;
    }
    default:
      throw new Error(`unknown reranker ${name}`);
  }
}
