/**
 * One ranking contract for keyword search on every backend: BM25 with FTS5's constants (k1 1.2,
 * b 0.75, idf ln((N − n + 0.5)/(n + 0.5)) floored at 1e-6) over the collection's own statistics.
 * The corpus is made of words no tokenizer splits, stems apart or drops as stopwords, so the
 * expected scores can be computed here and both backends must give them; it also exercises the
 * bounded index read (a word in more documents than the production store reads a word) and the
 * statistics after updates and deletes. Runs on either backend.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const K1 = 1.2;
const B = 0.75;

/** Reference BM25 of each document for a query (terms = the query's distinct words). */
function bm25(docs: Map<string, string[]>, terms: string[], minTerms = 1): { id: string; score: number }[] {
  const n = docs.size;
  const avgdl = [...docs.values()].reduce((sum, words) => sum + words.length, 0) / n;
  const scored: { id: string; score: number }[] = [];
  for (const [id, words] of docs) {
    let score = 0;
    let matched = 0;
    for (const term of terms) {
      const tf = words.filter((w) => w === term).length;
      if (tf === 0) continue;
      matched++;
      const df = [...docs.values()].filter((ws) => ws.includes(term)).length;
      const idf = Math.max(Math.log((n - df + 0.5) / (df + 0.5)), 1e-6);
      score += (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * words.length) / avgdl));
    }
    if (matched >= Math.min(minTerms, terms.length)) scored.push({ id, score });
  }
  return scored.sort((a, b) => b.score - a.score);
}

const VOCABULARY = (
  "mango papaya guava durian quince melon plum fig apple pear peach cherry grape lemon orange banana " +
  "apricot cashew walnut almond pecan hazelnut coconut olive radish carrot turnip parsnip"
).split(" ");

/**
 * A deterministic document: 3..10 vocabulary words, "kiwi" in about 45% of documents (more than
 * the production store reads a word, yet under half, so its idf stays above the floor) and
 * "lime" in one of nine.
 */
function documentWords(i: number): string[] {
  let x = (i * 2654435761) >>> 0;
  const next = () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x >>> 8;
  };
  const words = Array.from({ length: 3 + (next() % 8) }, () => VOCABULARY[next() % VOCABULARY.length]!);
  if (next() % 100 < 45) words.splice(next() % words.length, 0, "kiwi");
  if (i % 9 === 0) words.push("lime");
  return words;
}

async function keyword(token: string, cid: string, query: string, topK: number) {
  const reply = await t.call("POST", "/v1/search", { token, body: { query, collection_id: cid, search_type: "keyword", top_k: topK } });
  expect(reply.status).toBe(200);
  return reply.body.results as { id: string; score: number }[];
}

function expectSameRanking(got: { id: string; score: number }[], want: { id: string; score: number }[], k: number) {
  const top = want.slice(0, k);
  expect(got.length).toBe(top.length);
  // ties may come in either order; scores must agree position by position
  got.forEach((hit, i) => expect(hit.score).toBeCloseTo(top[i]!.score, 5));
  for (const hit of got) {
    const expected = want.find((w) => w.id === hit.id);
    expect(expected?.score).toBeCloseTo(hit.score, 5);
  }
}

test("keyword scores are the collection's BM25, after creates, replaces and deletes", async () => {
  const token = await t.token(`bm25-${crypto.randomUUID()}`);
  const cid = await newCollection(t, token);
  const docs = new Map<string, string[]>();
  const memories = Array.from({ length: 2500 }, (_, i) => {
    const words = documentWords(i);
    docs.set(`doc-${i}`, words);
    return { id: `doc-${i}`, content: words.join(" ") };
  });
  for (let i = 0; i < memories.length; i += 100) {
    const reply = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: memories.slice(i, i + 100) } });
    expect(reply.status).toBe(201);
  }
  await t.backend.settle();

  for (const [query, terms] of [
    ["lime", ["lime"]],
    ["kiwi lime", ["kiwi", "lime"]],
    ["kiwi", ["kiwi"]],
    ["mango papaya guava", ["mango", "papaya", "guava"]],
  ] as const) {
    expectSameRanking(await keyword(token, cid, query, 20), bm25(docs, [...terms]), 20);
  }

  // replace a document's text and delete others: the statistics follow
  const replaced = "lime lime lime kiwi";
  expect(
    (await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: [{ id: "doc-1", content: replaced }] } })).status,
  ).toBe(201);
  docs.set("doc-1", replaced.split(" "));
  for (const id of ["doc-0", "doc-9", "doc-18", "doc-2", "doc-3"]) {
    expect((await t.call("DELETE", `/v1/collections/${cid}/memories/${id}`, { token })).status).toBe(204);
    docs.delete(id);
  }
  await t.backend.settle();
  const after = await keyword(token, cid, "kiwi lime", 15);
  expectSameRanking(after, bm25(docs, ["kiwi", "lime"]), 15);
  expect(after[0]!.id).toBe("doc-1");
}, 180_000);

test("a filter that passes none of the best-scored matches still gets its top_k, ranked by the collection's BM25", async () => {
  const token = await t.token(`bm25-filter-${crypto.randomUUID()}`);
  const cid = await newCollection(t, token);
  const docs = new Map<string, string[]>();
  const kindOf = new Map<string, string>();
  // 300 short documents full of "kiwi" outscore 30 long ones that hold it once, so the best few
  // hundred matches of "kiwi" are all "dense": a store that reads a bounded candidate set first
  // must notice that the filter left it short
  const memories = Array.from({ length: 330 }, (_, i) => {
    const sparse = i % 11 === 0;
    const words = sparse ? ["kiwi", ...documentWords(i).filter((w) => w !== "kiwi"), "mango", "pear", "plum", "fig"] : ["kiwi", "kiwi", "kiwi", VOCABULARY[i % VOCABULARY.length]!];
    const id = `doc-${i}`;
    docs.set(id, words);
    kindOf.set(id, sparse ? "sparse" : "dense");
    return { id, content: words.join(" "), metadata: { kind: sparse ? "sparse" : "dense" } };
  });
  for (let i = 0; i < memories.length; i += 110) {
    const reply = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: memories.slice(i, i + 110) } });
    expect(reply.status).toBe(201);
  }
  await t.backend.settle();

  const reference = bm25(docs, ["kiwi"]);
  const sparse = reference.filter((hit) => kindOf.get(hit.id) === "sparse");
  expect(reference.slice(0, 300).every((hit) => kindOf.get(hit.id) === "dense")).toBe(true);

  const filtered = await t.call("POST", "/v1/search", {
    token,
    body: { query: "kiwi", collection_id: cid, search_type: "keyword", top_k: 10, filters: { metadata: { kind: "sparse" } } },
  });
  expect(filtered.status).toBe(200);
  const hits = filtered.body.results as { id: string; score: number }[];
  expectSameRanking(hits, sparse, 10);
  expect(hits.every((hit) => kindOf.get(hit.id) === "sparse")).toBe(true);

  expectSameRanking(await keyword(token, cid, "kiwi", 10), reference, 10);
}, 120_000);
