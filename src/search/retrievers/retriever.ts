import type { Hit, SearchFilter } from "../../domain/search";

/** What every retriever is asked: the `k` best hits of a collection for a query, within a filter. */
export interface Retrieval {
  collectionId: string;
  query: string;
  k: number;
  filter: SearchFilter;
  /** The query's embedding when the caller has it already (semantic search embeds it otherwise). */
  queryVector?: Float32Array;
}

/** One way of finding memories (semantic, keyword, hybrid, graph); higher scores are better. */
export type Retriever = (retrieval: Retrieval) => Promise<Hit[]>;
