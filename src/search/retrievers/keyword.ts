import type { MemoryStore } from "../../ports/memory-store";
import type { Retriever } from "./retriever";

/** search_type "keyword": full-text search of the source of truth (stemmed, stopwords ignored). */
export function keywordRetriever(deps: { memories: MemoryStore }): Retriever {
  return ({ collectionId, query, k, filter }) => deps.memories.keywordSearch(collectionId, query, k, filter);
}
