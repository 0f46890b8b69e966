import { isStopword } from "../../domain/stopwords.ts";

/** Most words of a query that reach PostgreSQL: bounds the work one request can cause. */
export const MAX_QUERY_TERMS = 32;
/** Longer "words" cannot be in the index (PostgreSQL skips lexemes over 2047 bytes). */
const MAX_WORD_CHARS = 500;

/**
 * Raw user text reduced to plain words: NUL and every other non-word character become
 * separators (runs of letters, digits and marks survive, after NFKC), lower-cased, deduplicated,
 * English stopwords dropped, at most MAX_QUERY_TERMS kept in query order. Returns null when no
 * searchable word is left. The result is bound as a parameter and only ever parsed by
 * `to_tsvector`, which cannot fail on it; it never reaches tsquery syntax.
 */
export function keywordText(raw: string): string | null {
  const words = raw.normalize("NFKC").match(/[\p{L}\p{N}\p{M}\p{Co}]+/gu);
  if (words === null) return null;
  const unique = [
    ...new Set(words.map((w) => w.toLowerCase()).filter((w) => w.length <= MAX_WORD_CHARS && !isStopword(w))),
  ];
  return unique.length === 0 ? null : unique.slice(0, MAX_QUERY_TERMS).join(" ");
}
