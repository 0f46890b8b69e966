/**
 * Multi-hop questions through the public API (test/fixtures/multihop.json): each needs two
 * memories linked by an entity the question does not name ("Alice's manager is Priya." +
 * "Priya lives in Lisbon." → "Where does Alice's manager live?"). Semantic search finds the
 * first hop and often misses the second; graph search walks from the named entity to it.
 * Prints recall@5 per search type; runs on either backend (TEST_BACKEND).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import fixture from "../fixtures/multihop.json";

const SEARCH_TYPES = ["semantic", "hybrid", "graph"] as const;
type SearchType = (typeof SEARCH_TYPES)[number];
const K = 5;

interface Outcome {
  /** Mean over questions of the share of its relevant memories in the top K. */
  recall: number;
  /** Questions whose answer memory is in the top K. */
  answered: number;
}

let t: TestApp;
let token: string;
let cid: string;
beforeAll(async () => {
  t = await createTestApp();
  token = await t.token(`multihop-${crypto.randomUUID()}`);
  cid = await newCollection(t, token, "multihop");
  const added = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: fixture.memories } });
  expect(added.status).toBe(201);
  await t.backend.settle(); // production: the outbox has reached Milvus and Neo4j
});
afterAll(() => t.close());

async function run(searchType: SearchType): Promise<Outcome> {
  let recall = 0;
  let answered = 0;
  for (const { query, relevant, answer } of fixture.questions) {
    const reply = await t.call("POST", "/v1/search", { token, body: { query, collection_id: cid, search_type: searchType, top_k: K } });
    expect(reply.status).toBe(200);
    const results: { id: string; path?: string[] }[] = reply.body.results;
    expect(results.length).toBeLessThanOrEqual(K);
    const ids = new Set(results.map((r) => r.id));
    recall += relevant.filter((id) => ids.has(id)).length / relevant.length;
    if (ids.has(answer)) answered++;
    if (searchType === "graph") {
      for (const r of results) expect(r.path?.length).toBeGreaterThan(0);
    }
  }
  return { recall: recall / fixture.questions.length, answered };
}

test("graph search answers multi-hop questions that semantic search misses (recall@5)", async () => {
  const outcome = {} as Record<SearchType, Outcome>;
  for (const type of SEARCH_TYPES) outcome[type] = await run(type);
  const n = fixture.questions.length;
  console.log(
    `multi-hop recall@${K} on ${n} questions (${t.backend.name}): ` +
      SEARCH_TYPES.map((type) => `${type} ${outcome[type].recall.toFixed(3)} (answer found ${outcome[type].answered}/${n})`).join(", "),
  );
  expect(outcome.graph.recall).toBeGreaterThan(outcome.semantic.recall);
  // measured: graph finds every answer memory on both backends; allow a little slack for a
  // change in extraction, never so much that "most questions" stops being true
  expect(outcome.graph.answered).toBeGreaterThanOrEqual(Math.ceil(0.85 * n));
  expect(outcome.graph.answered).toBeGreaterThan(outcome.semantic.answered);
}, 120_000);

test("a graph result carries the entity path from the question's entity to the answer", async () => {
  const reply = await t.call("POST", "/v1/search", {
    token,
    body: { query: "Where does Alice's manager live?", collection_id: cid, search_type: "graph", top_k: K },
  });
  expect(reply.status).toBe(200);
  const answer = reply.body.results.find((r: { id: string }) => r.id === "priya-home");
  expect(answer?.content).toBe("Priya lives in Lisbon.");
  expect(answer?.path).toEqual(expect.arrayContaining(["alice", "MANAGER", "priya"]));
});
