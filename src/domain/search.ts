/** What a retriever is asked (a validated filter) and what it answers (hits before hydration). */
import type { Scalar } from "./memory.ts";

/** One condition on a top-level metadata key. */
export type MetadataCondition =
  | { key: string; op: "eq"; value: Scalar }
  | { key: string; op: "in"; values: Scalar[] }
  | { key: string; op: "range"; gte?: Scalar; lte?: Scalar };

/** A validated filter; stores apply it inside their query so `k` results come back when that many match. */
export interface SearchFilter {
  metadata: MetadataCondition[];
  createdAfter?: string; // ISO-8601, exclusive
  createdBefore?: string; // ISO-8601, exclusive
}

/** A retrieval hit before hydration; higher score is better. */
export interface Hit {
  id: string;
  score: number;
  /** Graph search: the entity path that led to the memory (entity, RELATION, entity, ...). */
  path?: string[];
}

export interface KeywordOptions {
  minTermsMatched?: 1 | 2;
}
