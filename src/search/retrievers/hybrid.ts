import type { Embedder } from "../../ports/embedder";
import type { MemoryStore } from "../../ports/memory-store";
import type { VectorIndex } from "../../ports/vector-index";
import { reciprocalRankFusion } from "../fusion";
import type { Retriever } from "./retriever";

/**
 * search_type "hybrid": semantic and keyword candidates (`candidates` per side, at least k),
 * retrieved in parallel and fused by reciprocal rank. Keyword candidates must match two distinct
 * query words (when the query has two), which keeps incidental one-word matches out of the fusion.
 */
export function hybridRetriever(deps: {
  embedder: Embedder;
  vectors: VectorIndex;
  memories: MemoryStore;
  candidates: number;
}): Retriever {
  return async ({ collectionId, query, k, filter }) => {
    const pool = Math.max(k, deps.candidates);
    const [vector] = await deps.embedder.embed([query], "query");
    const [semantic, keyword] = await Promise.all([
      deps.vectors.search(collectionId, vector!, pool, filter),
      deps.memories.keywordSearch(collectionId, query, pool, filter, { minTermsMatched: 2 }),
    ]);
    return reciprocalRankFusion([semantic, keyword], k);
  };
}
