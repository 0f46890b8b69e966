import { isStopword } from "../../domain/stopwords";

/** Most words of a query that reach FTS5: bounds the work one request can cause. */
export const MAX_QUERY_TERMS = 32;
/** Most words combined pairwise when two must match (45 pairs). */
export const MAX_PAIRED_TERMS = 10;

/**
 * Turns raw user text into a safe FTS5 MATCH expression: the words (runs of letters, digits and
 * marks, as the unicode61 tokenizer sees them), each quoted as an FTS5 string, joined by OR.
 * FTS5 operators and punctuation in the input (`AND`, `"`, `(`, `*`, `:`, `^`, `NEAR`) are thus
 * plain words or separators, never syntax. English stopwords are dropped, as PostgreSQL's
 * `english` configuration does. Returns null when the text holds no searchable word.
 */
export function toFtsQuery(raw: string, minTermsMatched: 1 | 2 = 1): string | null {
  const words = raw.normalize("NFKC").match(/[\p{L}\p{N}\p{M}\p{Co}]+/gu);
  if (words === null) return null;
  const unique = [...new Set(words.map((w) => w.toLowerCase()).filter((w) => !isStopword(w)))];
  if (unique.length === 0) return null;
  const quoted = (w: string) => `"${w.replaceAll('"', '""')}"`;
  if (minTermsMatched === 1 || unique.length === 1) {
    return unique.slice(0, MAX_QUERY_TERMS).map(quoted).join(" OR ");
  }
  // "At least two of n" as a disjunction of pairs; n is capped so the expression stays small.
  const terms = unique.slice(0, MAX_PAIRED_TERMS).map(quoted);
  const pairs: string[] = [];
  for (let i = 0; i < terms.length; i++) {
    for (let j = i + 1; j < terms.length; j++) pairs.push(`(${terms[i]} AND ${terms[j]})`);
  }
  return pairs.join(" OR ");
}
