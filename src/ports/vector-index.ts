import type { Hit, SearchFilter } from "../domain/search.ts";

/** Nearest-neighbour search over memory embeddings (cosine similarity as score). */
export interface VectorIndex {
  search(collectionId: string, vector: Float32Array, k: number, filter: SearchFilter): Promise<Hit[]>;
}
