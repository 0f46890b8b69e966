import { isStopword } from "../../domain/stopwords.ts";

/** Most words of a query that reach PostgreSQL: bounds the work one request can cause. */
export const MAX_QUERY_TERMS = 32;
/** Most lexemes combined pairwise when two must match (45 pairs). */
export const MAX_PAIRED_TERMS = 10;
/** Longer "words" cannot be in the index (PostgreSQL skips lexemes over 2047 bytes). */
const MAX_WORD_CHARS = 500;

/**
 * Raw user text reduced to plain words: NUL and every other non-word character become
 * separators (runs of letters, digits and marks survive, after NFKC), lower-cased, deduplicated,
 * English stopwords dropped, at most MAX_QUERY_TERMS kept in query order. Returns null when no
 * searchable word is left. The result is bound as a parameter and only ever parsed by
 * `to_tsvector`, which cannot fail on it; it never reaches tsquery syntax as typed.
 */
export function keywordText(raw: string): string | null {
  const words = raw.normalize("NFKC").match(/[\p{L}\p{N}\p{M}\p{Co}]+/gu);
  if (words === null) return null;
  const unique = [
    ...new Set(words.map((w) => w.toLowerCase()).filter((w) => w.length <= MAX_WORD_CHARS && !isStopword(w))),
  ];
  return unique.length === 0 ? null : unique.slice(0, MAX_QUERY_TERMS).join(" ");
}

/** A lexeme as a quoted tsquery operand (lexemes come from to_tsvector; quoting is belt and braces). */
const QUOTED = `'''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || ''''`;

/**
 * SQL (a scalar subquery) building the tsquery from `$text` (keywordText's output) and
 * `$minTerms`: the query's distinct lexemes after the `english` configuration's stemming and
 * stopwords, in query order; OR of them, or, with minTerms 2 and at least two lexemes, OR of all
 * pairs `(a & b)` of the first MAX_PAIRED_TERMS. NULL when nothing is left (matches nothing).
 */
export function tsquerySql(text: string, minTerms: string): string {
  return `(
    WITH lex AS (
      SELECT lexeme, row_number() OVER (ORDER BY positions[1], lexeme) AS n
      FROM unnest(to_tsvector('english'::regconfig, ${text}::text))
    ), quoted AS (
      SELECT n, ${QUOTED} AS q FROM lex
    )
    SELECT NULLIF(
      CASE WHEN ${minTerms}::int >= 2 AND (SELECT count(*) FROM quoted) >= 2 THEN
        (SELECT string_agg('(' || a.q || ' & ' || b.q || ')', ' | ' ORDER BY a.n, b.n)
           FROM quoted a JOIN quoted b ON a.n < b.n
          WHERE b.n <= ${MAX_PAIRED_TERMS})
      ELSE
        (SELECT string_agg(q, ' | ' ORDER BY n) FROM quoted)
      END, '')::tsquery
  )`;
}
