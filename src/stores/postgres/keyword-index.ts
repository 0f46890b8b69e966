/**
 * BM25 keyword search in PostgreSQL, through an index that hands over each query word's best
 * documents first, instead of scoring every row that matches any word (what `ts_rank_cd` over
 * the GIN index did: its cost grew with the number of matches).
 *
 * The formula is SQLite FTS5's `bm25()` (k1 1.2, b 0.75, idf ln((N - n + 0.5) / (n + 0.5))
 * floored at 1e-6), so both backends rank by one contract; N, n and the average length are the
 * collection's own. Words are PostgreSQL's `english` lexemes (the `tsv` column): Snowball
 * stemming, stopwords left out of lengths; FTS5's porter tokenizer keeps stopwords in its
 * lengths. docs/api.md says where the two differ.
 *
 * Three tables, kept by statement-level triggers on `memories` (so every write path, the
 * expiry sweeper and collection deletes included, keeps them in its own transaction):
 * - `keyword_stats`: documents and total length a collection;
 * - `keyword_terms`: how many documents of a collection hold a lexeme (n);
 * - `keyword_postings`: (collection, lexeme, memory) with the term frequency, the document's
 *   length and an `impact` (the BM25 term-frequency factor at the time of writing), indexed by
 *   impact, so a query reads each word's best documents and stops.
 * Writers of a collection already take its change-log head row first (change-log.ts), so the
 * counters of one collection are never updated concurrently.
 */

/** FTS5's bm25() defaults. */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/** The BM25 term-frequency factor of `tf` in a document of length `dl` (SQL over columns). */
const tfFactor = (tf: string, dl: string, avgdl: string) =>
  `(${tf} * ${BM25_K1 + 1} / (${tf} + ${BM25_K1} * (${1 - BM25_B} + ${BM25_B} * ${dl}::float8 / greatest(${avgdl}, 1e-9))))`;

/** A lexeme's occurrences (positions; a position-less lexeme counts once). */
const TF = "greatest(cardinality(u.positions), 1)";
/** A tsvector's length: the sum of its lexemes' occurrences. */
const lengthOf = (tsv: string) => `(SELECT coalesce(sum(${TF}), 0) FROM unnest(${tsv}) AS u)::integer`;

/** Indexes the documents of the relation `rows` (columns collection_id, seq, tsv). */
const indexRowsSql = (rows: string) => `
  WITH docs AS (
    SELECT r.collection_id, r.seq, r.tsv, ${lengthOf("r.tsv")} AS dl FROM ${rows} AS r
  ), stats AS (
    INSERT INTO keyword_stats AS s (collection_id, docs, total_len)
    SELECT collection_id, count(*), sum(dl) FROM docs GROUP BY collection_id
    ON CONFLICT (collection_id) DO UPDATE SET docs = s.docs + EXCLUDED.docs, total_len = s.total_len + EXCLUDED.total_len
    RETURNING s.collection_id, s.total_len::float8 / greatest(s.docs, 1) AS avgdl
  ), terms AS (
    INSERT INTO keyword_terms AS t (collection_id, term, docs)
    SELECT d.collection_id, u.lexeme, count(*) FROM docs AS d CROSS JOIN LATERAL unnest(d.tsv) AS u GROUP BY 1, 2
    ON CONFLICT (collection_id, term) DO UPDATE SET docs = t.docs + EXCLUDED.docs
  )
  INSERT INTO keyword_postings (collection_id, term, memory_seq, tf, dl, impact)
  SELECT d.collection_id, u.lexeme, d.seq, ${TF}, d.dl, ${tfFactor(TF, "d.dl", "st.avgdl")}
  FROM docs AS d JOIN stats AS st USING (collection_id) CROSS JOIN LATERAL unnest(d.tsv) AS u`;

/**
 * Un-indexes the documents of the relation `rows`. Rows of a collection that is itself being
 * deleted are skipped here: that collection's entries go all at once (below).
 */
const unindexRowsSql = (rows: string) => `
  WITH docs AS (
    SELECT r.collection_id, r.seq, r.tsv, ${lengthOf("r.tsv")} AS dl FROM ${rows} AS r
    WHERE EXISTS (SELECT 1 FROM collections AS c WHERE c.id = r.collection_id)
  ), gone AS (
    SELECT d.collection_id, d.seq, u.lexeme FROM docs AS d CROSS JOIN LATERAL unnest(d.tsv) AS u
  ), postings AS (
    DELETE FROM keyword_postings AS p USING gone AS g
    WHERE p.collection_id = g.collection_id AND p.term = g.lexeme AND p.memory_seq = g.seq
  ), terms AS (
    UPDATE keyword_terms AS t SET docs = t.docs - g.n
    FROM (SELECT collection_id, lexeme, count(*) AS n FROM gone GROUP BY 1, 2) AS g
    WHERE t.collection_id = g.collection_id AND t.term = g.lexeme
  )
  UPDATE keyword_stats AS s SET docs = s.docs - g.n, total_len = s.total_len - g.len
  FROM (SELECT collection_id, count(*) AS n, sum(dl) AS len FROM docs GROUP BY 1) AS g
  WHERE s.collection_id = g.collection_id`;

/** Entries of collections that no longer exist (their memories went with them). */
const dropDeletedCollectionsSql = `
  DELETE FROM keyword_postings WHERE collection_id IN (
    SELECT DISTINCT o.collection_id FROM old_rows AS o WHERE NOT EXISTS (SELECT 1 FROM collections AS c WHERE c.id = o.collection_id));
  DELETE FROM keyword_terms WHERE collection_id IN (
    SELECT DISTINCT o.collection_id FROM old_rows AS o WHERE NOT EXISTS (SELECT 1 FROM collections AS c WHERE c.id = o.collection_id));`;

/** Rows of an UPDATE whose text changed (a metadata-only change leaves the index alone). */
const changedText = (side: "old_rows" | "new_rows") =>
  `(SELECT x.* FROM ${side} AS x JOIN old_rows AS o2 ON o2.seq = x.seq JOIN new_rows AS n2 ON n2.seq = x.seq
    WHERE o2.content IS DISTINCT FROM n2.content)`;

/**
 * The keyword-index migration (self-contained: renumber freely): tables, triggers, and the
 * index of every memory already stored, built in one pass (a minute or so a million memories).
 */
export const KEYWORD_INDEX_MIGRATION = `
  CREATE TABLE IF NOT EXISTS keyword_stats (
    collection_id uuid PRIMARY KEY REFERENCES collections (id) ON DELETE CASCADE,
    docs bigint NOT NULL,
    total_len bigint NOT NULL
  );
  -- no foreign keys below: checking one a posting would cost more than the posting; the
  -- memories' delete trigger removes a deleted collection's entries
  CREATE TABLE IF NOT EXISTS keyword_terms (
    collection_id uuid NOT NULL,
    term text NOT NULL,
    docs bigint NOT NULL,
    PRIMARY KEY (collection_id, term)
  );
  CREATE TABLE IF NOT EXISTS keyword_postings (
    collection_id uuid NOT NULL,
    term text NOT NULL,
    memory_seq bigint NOT NULL,
    tf integer NOT NULL,
    dl integer NOT NULL,
    impact real NOT NULL,
    PRIMARY KEY (collection_id, term, memory_seq)
  );
  CREATE INDEX IF NOT EXISTS keyword_postings_impact
    ON keyword_postings (collection_id, term, impact DESC, memory_seq) INCLUDE (tf, dl);

  CREATE OR REPLACE FUNCTION keyword_index_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
  BEGIN
    ${indexRowsSql("new_rows")};
    RETURN NULL;
  END $fn$;

  CREATE OR REPLACE FUNCTION keyword_index_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM old_rows AS o JOIN new_rows AS n ON n.seq = o.seq WHERE o.content IS DISTINCT FROM n.content) THEN
      RETURN NULL;
    END IF;
    ${unindexRowsSql(changedText("old_rows"))};
    ${indexRowsSql(changedText("new_rows"))};
    RETURN NULL;
  END $fn$;

  CREATE OR REPLACE FUNCTION keyword_index_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
  BEGIN
    ${unindexRowsSql("old_rows")};
    ${dropDeletedCollectionsSql}
    RETURN NULL;
  END $fn$;

  DROP TRIGGER IF EXISTS memories_keyword_insert ON memories;
  DROP TRIGGER IF EXISTS memories_keyword_update ON memories;
  DROP TRIGGER IF EXISTS memories_keyword_delete ON memories;
  CREATE TRIGGER memories_keyword_insert AFTER INSERT ON memories
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION keyword_index_insert();
  CREATE TRIGGER memories_keyword_update AFTER UPDATE ON memories
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION keyword_index_update();
  CREATE TRIGGER memories_keyword_delete AFTER DELETE ON memories
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION keyword_index_delete();

  TRUNCATE keyword_stats, keyword_terms, keyword_postings;
  ${indexRowsSql("memories")};
  ANALYZE keyword_stats, keyword_terms, keyword_postings;
`;

/**
 * The keyword query. Parameters: $1 collection id, $2 the query text (keywordText's output),
 * $3 minimum distinct query lexemes a hit must hold (1 or 2; 2 needs two lexemes in the query),
 * $4 hits wanted, $5 documents read a lexeme (NULL: all), $6 best-scored candidates checked
 * against liveness and the filter (NULL: all); `where` is the compiled filter on `m`, `live`
 * the not-expired condition. With $5 and $6 NULL the answer is exact BM25; with bounds, a
 * document is scored on the words in whose top $5 it is (every document of a rarer word is
 * read). The hits come first, by score; one last row (id NULL) says how many documents the
 * most common query word has (`longest`) and how many candidates there were (`candidates`),
 * from which the caller knows whether a bound may have cost it a hit.
 */
export function keywordQuerySql(where: string, live: string): string {
  return `
    WITH q AS (
      SELECT DISTINCT u.lexeme AS term FROM unnest(to_tsvector('english'::regconfig, $2::text)) AS u
    ), st AS (
      SELECT docs::float8 AS n, total_len::float8 / greatest(docs, 1) AS avgdl FROM keyword_stats WHERE collection_id = $1
    ), w AS (
      SELECT t.term, t.docs, greatest(ln((st.n - t.docs + 0.5) / (t.docs + 0.5)), 1e-6) AS idf
      FROM q JOIN keyword_terms AS t ON t.collection_id = $1 AND t.term = q.term CROSS JOIN st
      WHERE t.docs > 0
    ), hits AS (
      SELECT p.memory_seq, w.idf * ${tfFactor("p.tf", "p.dl", "st.avgdl")} AS s
      FROM w CROSS JOIN st CROSS JOIN LATERAL (
        SELECT k.memory_seq, k.tf, k.dl FROM keyword_postings AS k
        WHERE k.collection_id = $1 AND k.term = w.term
        ORDER BY k.impact DESC, k.memory_seq
        LIMIT $5::bigint
      ) AS p
    ), grouped AS MATERIALIZED (
      SELECT memory_seq, sum(s) AS score FROM hits GROUP BY memory_seq
      HAVING count(*) >= CASE WHEN $3::int >= 2 AND (SELECT count(*) FROM q) >= 2 THEN 2 ELSE 1 END
    ), scored AS (
      SELECT memory_seq, score FROM grouped ORDER BY score DESC, memory_seq LIMIT $6::bigint
    )
    (SELECT m.id, sc.score::float8 AS score, NULL::float8 AS longest, NULL::float8 AS candidates
     FROM scored AS sc JOIN memories AS m ON m.seq = sc.memory_seq
     WHERE m.collection_id = $1 AND ${live} AND ${where}
     ORDER BY sc.score DESC, m.seq
     LIMIT $4)
    UNION ALL
    SELECT NULL, NULL, (SELECT coalesce(max(docs), 0) FROM w)::float8, (SELECT count(*) FROM grouped)::float8`;
}
