import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { MEMORIES, QUESTIONS, RARE_TERMS } from "../fixtures/retrieval-set";

let t: TestApp;
let token: string;
let cid: string;
beforeAll(async () => {
  t = await createTestApp();
  token = await t.token("alice");
  cid = await newCollection(t, token, "retrieval");
  const reply = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: MEMORIES } });
  expect(reply.status).toBe(201);
});
afterAll(() => t.close());

const search = (body: Record<string, unknown>, as = token) =>
  t.call("POST", "/v1/search", { token: as, body: { collection_id: cid, ...body } });

describe("retrieval quality on a handwritten set (proves the model is real)", () => {
  for (const searchType of ["semantic", "hybrid"] as const) {
    test(`${searchType}: the right memory is first for every paraphrased question`, async () => {
      const misses: string[] = [];
      for (const { query, expected } of QUESTIONS) {
        const reply = await search({ query, search_type: searchType, top_k: 5 });
        expect(reply.status).toBe(200);
        if (reply.body.results[0]?.id !== expected) {
          misses.push(`${query} → ${reply.body.results.map((r: any) => r.id).join(", ")} (wanted ${expected})`);
        }
      }
      expect(misses).toEqual([]);
    });
  }

  test("keyword: exact rare terms come first", async () => {
    for (const { query, expected } of RARE_TERMS) {
      const reply = await search({ query, search_type: "keyword" });
      expect(reply.body.results[0]?.id).toBe(expected);
    }
  });

  test("keyword: a question sharing no word with any memory finds nothing relevant first", async () => {
    const reply = await search({ query: "tooth doctor", search_type: "keyword" });
    expect(reply.body.results.map((r: any) => r.id)).not.toContain("dentist");
  });
});

describe("answer shape", () => {
  test("is the contract's", async () => {
    const reply = await search({ query: "airport parking", top_k: 3 });
    expect(reply.headers.get("content-type")).toContain("application/json");
    expect(reply.body).toEqual({
      cached: expect.any(Boolean),
      took_ms: expect.any(Number),
      results: expect.any(Array),
      search_type: "semantic",
      top_k: 3,
      reranked: false,
    });
    expect(reply.body.results).toHaveLength(3);
    const first = reply.body.results[0];
    expect(first).toEqual({
      id: "parking",
      content: "I parked on level 4 of the airport garage, row G.",
      metadata: { kind: "travel", year: 2026 },
      score: expect.any(Number),
      created_at: expect.any(String),
    });
    const scores = reply.body.results.map((r: any) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  test("top_k bounds the results", async () => {
    for (const search_type of ["semantic", "keyword", "hybrid"]) {
      const reply = await search({ query: "the", search_type, top_k: 2 });
      expect(reply.body.results.length).toBeLessThanOrEqual(2);
    }
    expect((await search({ query: "anything at all", top_k: 100 })).body.results).toHaveLength(MEMORIES.length);
  });

  test("rerank from a free token is a 403 naming the plan", async () => {
    const reply = await search({ query: "parking", rerank: true });
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe("premium_required");
    expect(reply.body.detail).toContain("premium");
  });
});

describe("filters are applied inside the store query", () => {
  test("equality on metadata still returns top_k when that many match", async () => {
    const reply = await search({ query: "airport garage", top_k: 4, filters: { metadata: { kind: "work" } } });
    expect(reply.body.results).toHaveLength(4);
    expect(reply.body.results.every((r: any) => r.metadata.kind === "work")).toBe(true);
  });

  test("$in, ranges and dates, for every search type", async () => {
    for (const search_type of ["semantic", "keyword", "hybrid"]) {
      const inReply = await search({ query: "the", search_type, top_k: 50, filters: { metadata: { kind: { $in: ["pets", "food"] } } } });
      expect(inReply.status).toBe(200);
      for (const r of inReply.body.results) expect(["pets", "food"]).toContain(r.metadata.kind);

      const range = await search({ query: "the", search_type, top_k: 50, filters: { metadata: { year: { $gte: 2020, $lte: 2023 } } } });
      for (const r of range.body.results) expect(r.metadata.year).toBeWithin(2020, 2024);
    }
    const semanticIn = await search({ query: "animals", top_k: 50, filters: { metadata: { kind: { $in: ["pets", "food"] } } } });
    expect(semanticIn.body.results.map((r: any) => r.id).sort()).toEqual(["cat", "diet", "lasagna", "vaccine"]);

    const future = await search({ query: "anything", filters: { created_after: "2999-01-01T00:00:00Z" } });
    expect(future.body.results).toEqual([]);
    const past = await search({ query: "anything", top_k: 100, filters: { created_before: "2999-01-01T00:00:00Z" } });
    expect(past.body.results).toHaveLength(MEMORIES.length);
  });
});

describe("cache and read-your-writes", () => {
  test("a repeated search is served from the cache", async () => {
    const first = await search({ query: "where is the spare key", top_k: 3 });
    const second = await search({ query: "where is the spare key", top_k: 3 });
    expect(first.body.cached).toBe(false);
    expect(second.body.cached).toBe(true);
    expect(second.body.results).toEqual(first.body.results);
  });

  test("an add, a patch and a delete are each visible to the very next search", async () => {
    const own = await newCollection(t, token);
    const q = { query: "what colour is the submarine", collection_id: own, search_type: "hybrid", top_k: 5 };
    const before = await t.call("POST", "/v1/search", { token, body: q });
    expect(before.body.results).toEqual([]);
    await t.call("POST", "/v1/search", { token, body: q }); // now cached

    await t.call("POST", `/v1/collections/${own}/memories`, { token, body: { memories: [{ id: "sub", content: "The submarine is painted yellow." }] } });
    const afterAdd = await t.call("POST", "/v1/search", { token, body: q });
    expect(afterAdd.body.cached).toBe(false);
    expect(afterAdd.body.results.map((r: any) => r.content)).toEqual(["The submarine is painted yellow."]);

    await t.call("PATCH", `/v1/collections/${own}/memories/sub`, { token, body: { content: "The submarine is painted bright red." } });
    const afterPatch = await t.call("POST", "/v1/search", { token, body: q });
    expect(afterPatch.body.results[0].content).toBe("The submarine is painted bright red.");

    await t.call("DELETE", `/v1/collections/${own}/memories/sub`, { token });
    const afterDelete = await t.call("POST", "/v1/search", { token, body: q });
    expect(afterDelete.body.results).toEqual([]);
  });

  test("identical concurrent misses share one computation", async () => {
    const before = { ...t.app.pipeline.stats };
    const body = { query: `concurrent question ${crypto.randomUUID()}`, top_k: 3 };
    const replies = await Promise.all(Array.from({ length: 20 }, () => search(body)));
    for (const r of replies) expect(r.status).toBe(200);
    const stats = t.app.pipeline.stats;
    const misses = stats.misses - before.misses;
    const shared = stats.sharedMisses - before.sharedMisses;
    expect(misses - shared).toBe(1);
    expect(new Set(replies.map((r) => JSON.stringify(r.body.results))).size).toBe(1);
  });

  test("another user's identical search is not served from this user's cache", async () => {
    const bob = await t.token("bob");
    await search({ query: "tokyo flight gate" });
    expect((await search({ query: "tokyo flight gate" }, bob)).status).toBe(404);
  });
});
