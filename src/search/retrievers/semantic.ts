import type { Embedder } from "../../ports/embedder";
import type { VectorIndex } from "../../ports/vector-index";
import type { Retriever } from "./retriever";

/** search_type "semantic": the query's embedding → its nearest memories (cosine). */
export function semanticRetriever(deps: { embedder: Embedder; vectors: VectorIndex }): Retriever {
  return async ({ collectionId, query, k, filter, queryVector }) => {
    const vector = queryVector ?? (await deps.embedder.embed([query], "query"))[0]!;
    return deps.vectors.search(collectionId, vector, k, filter);
  };
}
