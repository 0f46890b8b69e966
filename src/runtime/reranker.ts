import { existsSync } from "node:fs";
import type { Config } from "../config";
import type { Logger } from "../log";
import { createOnnxReranker, type OnnxReranker } from "../ml/reranker";

/**
 * The premium cross-encoder, when its folder is there. Without it the service still runs:
 * premium searches asking for `rerank` get unreranked results with `rerank_reason`.
 */
export async function openReranker(config: Config, log: Logger): Promise<OnnxReranker | undefined> {
  if (!existsSync(config.reranker.modelDir)) {
    log.warn("no reranker model folder: reranking is off", { dir: config.reranker.modelDir });
    return undefined;
  }
  try {
    return await createOnnxReranker({
      modelDir: config.reranker.modelDir,
      maxQueue: config.reranker.maxQueue,
      maxBatchPairs: config.reranker.maxBatchPairs,
      nice: config.reranker.nice,
    });
  } catch (error) {
    log.error("the reranker could not load: reranking is off", { dir: config.reranker.modelDir, error: String(error) });
    return undefined;
  }
}
