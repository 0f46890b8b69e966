/**
 * A tenant's keyword scores depend on its own memories only: another tenant storing many
 * memories with the same words changes nothing in mine (embedded: one FTS5 index a collection,
 * so BM25's statistics are the collection's; production: PostgreSQL's rank is per document).
 * Runs on either backend.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function keyword(token: string, cid: string, query: string, topK: number) {
  const reply = await t.call("POST", "/v1/search", { token, body: { query, collection_id: cid, search_type: "keyword", top_k: topK } });
  expect(reply.status).toBe(200);
  expect(reply.body.cached).toBe(false);
  return reply.body.results as { id: string; score: number }[];
}

test("another tenant's writes do not change my keyword scores", async () => {
  const alice = await t.token(`kw-alice-${crypto.randomUUID()}`);
  const bob = await t.token(`kw-bob-${crypto.randomUUID()}`);
  const mine = await newCollection(t, alice);
  const theirs = await newCollection(t, bob);
  const add = async (token: string, cid: string, memories: { content: string }[]) => {
    expect((await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories } })).status).toBe(201);
  };
  await add(alice, mine, [
    { content: "A wombat digs its burrow at night." },
    { content: "The burrow of a rabbit is called a warren." },
    { content: "Wombats are marsupials from Australia." },
    { content: "Kangaroos do not dig." },
  ]);
  await t.backend.settle();
  const before = await keyword(alice, mine, "wombat burrow", 10);
  expect(before.length).toBeGreaterThanOrEqual(3);

  await add(bob, theirs, Array.from({ length: 300 }, (_, i) => ({ content: `wombat sighting number ${i} near the creek` })));
  await t.backend.settle();
  // another top_k: a fresh computation, not the cached answer
  const after = await keyword(alice, mine, "wombat burrow", 9);
  expect(after.map((r) => [r.id, r.score])).toEqual(before.map((r) => [r.id, r.score]));
  // and Bob's own search sees his memories, ranked among themselves
  expect((await keyword(bob, theirs, "wombat", 5)).length).toBe(5);
}, 120_000);
