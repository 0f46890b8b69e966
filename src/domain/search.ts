/** What a retriever is asked (a validated filter) and what it answers (hits before hydration). */
import type { Scalar } from "./memory.ts";

/**
 * The filter language as a tree (parsed from a request's `filters` by src/search/filters/parse.ts,
 * compiled by each store adapter; src/search/filters/match.ts is its reference semantics).
 *
 * A metadata condition reads one top-level key (a dot is part of the key, never a path):
 * - `eq`: the key holds a value of the same JSON type, equal to it (numbers numerically:
 *   1 == 1.0; true, 1 and "1" all differ). `ne` is exactly its negation (true for a missing key,
 *   for null and for a value of another type); `in` / `nin` likewise with several values.
 * - `gt` `gte` `lt` `lte`: the key holds a value of the bound's type (number or string),
 *   numbers compared numerically, strings by Unicode code point; any other value (missing,
 *   null, another type, array, object) is false, never an error.
 * - `exists`: the key is present, whatever its value (null included).
 * - `contains`: the key holds a string with `value` (a string) as a case-sensitive substring,
 *   or an array with an element `eq` to `value`.
 * A timestamp condition compares the memory's created_at / updated_at (ISO-8601, ms) as instants.
 * `and` of nothing is true (the empty filter); `not` is the exact complement.
 */
export type TimestampField = "created_at" | "updated_at";

export type RangeOp = "gt" | "gte" | "lt" | "lte";

export type MetadataCondition =
  | { kind: "metadata"; key: string; op: "eq" | "ne" | "contains"; value: Scalar }
  | { kind: "metadata"; key: string; op: RangeOp; value: string | number }
  | { kind: "metadata"; key: string; op: "in" | "nin"; values: Scalar[] }
  | { kind: "metadata"; key: string; op: "exists"; value: boolean };

export interface TimestampCondition {
  kind: TimestampField;
  op: "eq" | "ne" | RangeOp;
  /** ISO-8601 in the stored form (`Date#toISOString`). */
  value: string;
}

export type FilterCondition = MetadataCondition | TimestampCondition;

export type FilterNode =
  | { kind: "and"; nodes: FilterNode[] }
  | { kind: "or"; nodes: FilterNode[] }
  | { kind: "not"; node: FilterNode }
  | FilterCondition;

/** A validated filter; stores apply it inside their query so `k` results come back when that many match. */
export type SearchFilter = FilterNode;

/** The filter that constrains nothing. */
export const MATCH_ALL: SearchFilter = Object.freeze({ kind: "and", nodes: [] }) as SearchFilter;

/** True when the filter constrains nothing (an index can then use its plain KNN). */
export function isMatchAll(filter: SearchFilter | undefined): boolean {
  return filter === undefined || (filter.kind === "and" && filter.nodes.every(isMatchAll));
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

/**
 * Hybrid fusion when not configured otherwise (HYBRID_RRF_K, HYBRID_SEMANTIC_WEIGHT,
 * HYBRID_KEYWORD_WEIGHT): tuned on the dev split of bench/data (docs/quality.md). One place, so
 * an app built without the config (tests, the eval) fuses as the server ships.
 */
export const DEFAULT_HYBRID_FUSION = { rrfK: 20, semanticWeight: 1, keywordWeight: 0.5 } as const;

/** A premium search reorders max(top_k, this many) candidates (RERANK_CANDIDATES; see config.ts for why 10). */
export const DEFAULT_RERANK_CANDIDATES = 10;
