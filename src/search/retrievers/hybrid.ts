import type { Embedder } from "../../ports/embedder";
import type { MemoryStore } from "../../ports/memory-store";
import type { VectorIndex } from "../../ports/vector-index";
import { reciprocalRankFusion } from "../fusion";
import type { Retriever } from "./retriever";
import { DEFAULT_HYBRID_FUSION } from "../../domain/search";

export interface HybridFusion {
  rrfK: number;
  semanticWeight: number;
  keywordWeight: number;
}

/**
 * search_type "hybrid": semantic and keyword candidates (`candidates` per side, at least k),
 * retrieved in parallel (the keyword side while the query is embedded) and fused by reciprocal
 * rank. Keyword candidates must match two distinct query words (when the query has two), which
 * keeps incidental one-word matches out of the fusion.
 */
export function hybridRetriever(deps: {
  embedder: Embedder;
  vectors: VectorIndex;
  memories: MemoryStore;
  candidates: number;
  /** RRF constant and per-side weights (config.ts `search`); default DEFAULT_HYBRID_FUSION. */
  fusion?: HybridFusion;
}): Retriever {
  return async ({ collectionId, query, k, filter }) => {
    const pool = Math.max(k, deps.candidates);
    // the keyword side needs no embedding: it runs while the query is embedded
    const [semantic, keyword] = await Promise.all([
      deps.embedder.embed([query], "query").then(([vector]) => deps.vectors.search(collectionId, vector!, pool, filter)),
      deps.memories.keywordSearch(collectionId, query, pool, filter, { minTermsMatched: 2 }),
    ]);
    const fusion = deps.fusion ?? DEFAULT_HYBRID_FUSION;
    return reciprocalRankFusion([semantic, keyword], k, fusion.rrfK, [fusion.semanticWeight, fusion.keywordWeight]);
  };
}
