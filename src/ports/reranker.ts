/** A cross-encoder: one relevance score per (query, document) pair, higher is more relevant. */
export interface Reranker {
  readonly model: string;
  score(query: string, documents: string[]): Promise<number[]>;
  /**
   * Latency-sensitive work has started (a search that is not reranked): reranking, which only
   * uses spare CPU, yields to it. Cheap enough to call on every request.
   */
  noteForegroundWork?(): void;
  close(): Promise<void>;
}
