import { InvalidInputError } from "../../domain/errors";
import type { SearchFilter } from "../../domain/search";
import { parseFilters } from "./parse";

/** Longest `filter` query parameter (URL-decoded); a filter at its size bounds fits well within it. */
export const MAX_FILTER_PARAM_CHARS = 16_384;

/**
 * A filter given as a query parameter: the JSON of a filter (the same language as a search's
 * `filters`), URL-encoded. Messages name `query.filter` and the path within it.
 */
export function parseFilterParam(raw: string | undefined): SearchFilter {
  if (raw === undefined) return parseFilters(undefined);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidInputError("query.filter", 'must be a filter as URL-encoded JSON, e.g. {"metadata":{"tag":"x"}}');
  }
  if (value === null) throw new InvalidInputError("query.filter", "must be an object");
  return parseFilters(value, "query.filter");
}
