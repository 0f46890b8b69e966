import { existsSync } from "node:fs";
import type { Config } from "../config";
import type { Logger } from "../log";
import { createOnnxReranker, type OnnxReranker } from "../ml/reranker";
import { interpolatedReranker } from "../ml/interpolated-reranker";
import { biEncoderReranker, type BiEncoderReranker } from "../ml/bi-encoder-reranker";
import { createOnnxEmbedder } from "../ml/embedder";
import type { Reranker } from "../ports/reranker";
import type { RerankerFigures } from "../metrics/metrics";

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

/**
 * The premium bi-encoder (RERANKER_KIND=bi-encoder): a larger embedding model than the
 * collection's, on one worker thread of its own that yields to requests as the cross-encoder's
 * does (idle class, else RERANK_NICE), with RERANK_MAX_QUEUE texts at most waiting and
 * RERANK_MAX_WAIT_MS the longest a search waits (past either it answers unreranked:
 * reranker_busy). Absent folder or failed load: reranking is off.
 */
export async function openBiEncoder(config: Config, log: Logger): Promise<BiEncoderReranker | undefined> {
  const dir = config.reranker.biEncoderDir;
  if (!existsSync(dir)) {
    log.warn("no bi-encoder folder: reranking is off (bun run fetch-models -- --model e5-small-v2)", { dir });
    return undefined;
  }
  try {
    const embedder = await createOnnxEmbedder({
      modelDir: dir,
      workers: config.reranker.biEncoderWorkers,
      threads: 1,
      maxQueue: config.reranker.maxQueue,
      background: { idleScheduling: config.reranker.idleScheduling, nice: config.reranker.nice },
    });
    log.info("premium bi-encoder loaded", { model: embedder.model });
    return biEncoderReranker(embedder, { maxWaitMs: config.reranker.maxWaitMs });
  } catch (error) {
    log.error("the premium bi-encoder could not load: reranking is off", { dir, error: String(error) });
    return undefined;
  }
}

/** The scorer of RERANKER_KIND, with the figures /metrics reads of it. */
export function openPremiumScorer(config: Config, log: Logger): Promise<(Reranker & { stats(): RerankerFigures }) | undefined> {
  return config.reranker.kind === "bi-encoder" ? openBiEncoder(config, log) : openReranker(config, log);
}

/** What premium searches rerank with: the scorer blended with the hybrid order (RERANK_INTERPOLATION_*). */
export function premiumReranker(config: Config, reranker: Reranker | undefined): Reranker | undefined {
  if (!reranker || config.reranker.interpolationWeight >= 1) return reranker;
  return interpolatedReranker(reranker, {
    weight: config.reranker.interpolationWeight,
    rankK: config.reranker.interpolationRankK,
  });
}
