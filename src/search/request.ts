/**
 * A search as the API takes it and answers it: the `t` schemas are the route's validation, the
 * OpenAPI document and the pipeline's types, and the defaults are declared here once.
 */
import { t, type Static } from "elysia";
import { LIMITS } from "../domain/limits";
import { documentedAs } from "../http/documented";
import { SearchFilters } from "./filters/schema";

const SearchTypeSchema = t.Union([t.Literal("semantic"), t.Literal("keyword"), t.Literal("hybrid"), t.Literal("graph")]);
export type SearchType = Static<typeof SearchTypeSchema>;

export const SEARCH_DEFAULTS = { top_k: 10, search_type: "semantic", rerank: false } as const satisfies {
  top_k: number;
  search_type: SearchType;
  rerank: boolean;
};

export const SearchBody = t.Object(
  {
    query: t.String({ minLength: 1, maxLength: LIMITS.queryChars, pattern: "\\S" }),
    collection_id: t.String({ minLength: 1, maxLength: 64 }),
    top_k: t.Optional(t.Integer({ minimum: 1, maximum: LIMITS.topK, default: SEARCH_DEFAULTS.top_k })),
    search_type: t.Optional(
      t.Union(SearchTypeSchema.anyOf, { default: SEARCH_DEFAULTS.search_type }),
    ),
    // Validated by parseFilters, whose messages name the failing key and operator; documented
    // exactly (filter-schema.ts).
    filters: t.Optional(documentedAs(t.Record(t.String(), t.Unknown()), SearchFilters)),
    rerank: t.Optional(t.Boolean({ default: SEARCH_DEFAULTS.rerank })),
    min_score: t.Optional(
      t.Number({
        description:
          "only results scoring at least this are returned (of the top_k best); the answer's below_min_score counts those left out. " +
          "Scales differ by search type: semantic = cosine similarity in [-1, 1]; keyword = full-text relevance, unbounded above " +
          "(BM25 over the collection's statistics, one formula on both backends); hybrid = weighted reciprocal-rank fusion, in (0, 1.5/21 ≈ 0.0714] with the default settings; " +
          "graph = 0.7 × graph-path weight + 0.3 × max(0, cosine), in [0, 1]; reranked: the premium blend of the rescoring model's score and the first-stage rank, in [0, 1], which replaces them.",
      }),
    ),
  },
  { additionalProperties: false },
);

/** A search with every default applied: what the pipeline computes. */
export type SearchRequest = Omit<Static<typeof SearchBody>, "top_k" | "search_type" | "rerank"> & {
  top_k: number;
  search_type: SearchType;
  rerank: boolean;
};

export const withSearchDefaults = (body: Static<typeof SearchBody>): SearchRequest => ({
  ...body,
  top_k: body.top_k ?? SEARCH_DEFAULTS.top_k,
  search_type: body.search_type ?? SEARCH_DEFAULTS.search_type,
  rerank: body.rerank ?? SEARCH_DEFAULTS.rerank,
});

export const SearchResultSchema = t.Object({
  id: t.String(),
  content: t.String(),
  metadata: t.Record(t.String(), t.Unknown()),
  score: t.Number(),
  created_at: t.String(),
  expires_at: t.Optional(t.String({ description: "when this memory expires (only for one that does)" })),
  path: t.Optional(t.Array(t.String(), { description: "graph search: entity, RELATION, entity, ... that led here" })),
});

export type SearchResult = Static<typeof SearchResultSchema>;

export const SearchAnswerSchema = t.Object({
  cached: t.Boolean(),
  took_ms: t.Number(),
  results: t.Array(SearchResultSchema),
  search_type: t.String(),
  top_k: t.Integer(),
  reranked: t.Boolean(),
  rerank_reason: t.Optional(
    t.String({ description: "why `rerank: true` was not honoured: reranker_busy, reranker_not_configured" }),
  ),
  below_min_score: t.Optional(
    t.Integer({
      minimum: 0,
      description: "with min_score: how many of the top_k best results scored below it and were left out (results empty and this above 0: nothing passed)",
    }),
  ),
});
