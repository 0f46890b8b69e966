import { existsSync } from "node:fs";
import type { Config } from "../config";
import type { Logger } from "../log";
import { createOnnxReranker, type OnnxReranker } from "../ml/reranker";
import { interpolatedReranker } from "../ml/interpolated-reranker";
import type { Reranker } from "../ports/reranker";

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
    const reranker = await createOnnxReranker({
      modelDir: config.reranker.modelDir,
      maxQueue: config.reranker.maxQueue,
      maxBatchPairs: config.reranker.maxBatchPairs,
      maxLength: config.reranker.maxLength,
      maxWaitMs: config.reranker.maxWaitMs,
      idleScheduling: config.reranker.idleScheduling,
      nice: config.reranker.nice,
      cpuSlots:
        config.reranker.cpuSlots > 0 ? { dir: config.reranker.cpuSlotsDir, count: config.reranker.cpuSlots } : undefined,
      contendedDuty: config.reranker.contendedDuty,
    });
    if (reranker.scheduling === "normal") {
      log.warn("could not lower the reranker thread's priority: reranking competes with other tiers for the CPU");
    }
    if (config.reranker.cpuSlots > 0 && reranker.cpuSlots === null) {
      log.warn("could not open the reranker's CPU slots: inference is not capped machine-wide", {
        dir: config.reranker.cpuSlotsDir,
      });
    }
    log.info("reranker loaded", {
      model: reranker.model,
      scheduling: reranker.scheduling,
      cpu_slots: reranker.cpuSlots,
    });
    return reranker;
  } catch (error) {
    log.error("the reranker could not load: reranking is off", { dir: config.reranker.modelDir, error: String(error) });
    return undefined;
  }
}

/** What premium searches rerank with: the cross-encoder blended with the hybrid order (RERANK_INTERPOLATION_*). */
export function premiumReranker(config: Config, reranker: OnnxReranker | undefined): Reranker | undefined {
  if (!reranker || config.reranker.interpolationWeight >= 1) return reranker;
  return interpolatedReranker(reranker, {
    weight: config.reranker.interpolationWeight,
    rankK: config.reranker.interpolationRankK,
  });
}
