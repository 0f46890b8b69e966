import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { createOnnxReranker, type OnnxReranker } from "../../src/ml/reranker";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { MEMORIES } from "../fixtures/retrieval-set";
import { DEFAULT_RERANK_CANDIDATES } from "../../src/domain/search";

const MODEL_DIR = process.env.RERANKER_MODEL_DIR ?? "models/reranker";
const rerankers: OnnxReranker[] = [];
const apps: TestApp[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
  for (const r of rerankers) await r.close();
});

async function setup(opts: { maxQueue?: number } = {}) {
  const reranker = await createOnnxReranker({ modelDir: MODEL_DIR, maxQueue: opts.maxQueue ?? 64 });
  rerankers.push(reranker);
  const t = await createTestApp({ reranker });
  apps.push(t);
  const pro = await t.token("premium-user", "pro");
  const cid = await newCollection(t, pro, "rerank");
  expect((await t.call("POST", `/v1/collections/${cid}/memories`, { token: pro, body: { memories: MEMORIES } })).status).toBe(201);
  return { t, pro, cid, reranker };
}

describe("premium reranking through the API", () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    ctx = await setup();
  });

  test("rerank: true from a pro token reranks a candidate pool and returns top_k with cross-encoder scores", async () => {
    const { t, pro, cid, reranker } = ctx;
    const before = reranker.stats().pairsScored;
    const reply = await t.call("POST", "/v1/search", {
      token: pro,
      body: { query: "Where did I leave the vehicle at the terminal?", collection_id: cid, search_type: "hybrid", top_k: 3, rerank: true },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.reranked).toBe(true);
    expect(reply.body.rerank_reason).toBeUndefined();
    expect(reply.body.results).toHaveLength(3);
    // the pool is max(top_k 3, DEFAULT_RERANK_CANDIDATES) candidates
    expect(MEMORIES.length).toBeGreaterThan(DEFAULT_RERANK_CANDIDATES);
    expect(reranker.stats().pairsScored - before).toBe(DEFAULT_RERANK_CANDIDATES);
    const scores = reply.body.results.map((r: { score: number }) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    const plain = await t.call("POST", "/v1/search", {
      token: pro,
      body: { query: "Where did I leave the vehicle at the terminal?", collection_id: cid, search_type: "hybrid", top_k: 3 },
    });
    expect(plain.body.reranked).toBe(false);
    expect(plain.body.results[0].score).not.toBe(reply.body.results[0].score);
  });

  test("a top_k above the rerank pool widens the pool to top_k: every answered memory was scored", async () => {
    const { t, pro, cid, reranker } = ctx;
    const before = reranker.stats().pairsScored;
    const topK = DEFAULT_RERANK_CANDIDATES + 5;
    const reply = await t.call("POST", "/v1/search", {
      token: pro,
      body: { query: "which allergy medicine do I take", collection_id: cid, search_type: "semantic", top_k: topK, rerank: true },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.reranked).toBe(true);
    expect(reply.body.results).toHaveLength(topK);
    expect(reranker.stats().pairsScored - before).toBe(topK);
  });

  test("reranked answers are cached under their own key", async () => {
    const { t, pro, cid } = ctx;
    const body = { query: "what pill does the cat take", collection_id: cid, rerank: true, top_k: 2 };
    const first = await t.call("POST", "/v1/search", { token: pro, body });
    const second = await t.call("POST", "/v1/search", { token: pro, body });
    expect([first.body.cached, second.body.cached]).toEqual([false, true]);
    expect(second.body.reranked).toBe(true);
    const unreranked = await t.call("POST", "/v1/search", { token: pro, body: { ...body, rerank: false } });
    expect(unreranked.body.cached).toBe(false);
    expect(unreranked.body.reranked).toBe(false);
  });

  test("searches that are not reranked, of any tier, tell the reranker to yield; rerank searches do not", async () => {
    const { t, pro, cid, reranker } = ctx;
    const free = await t.token("premium-user", "free");
    const noted = () => reranker.stats().foregroundNoted;
    const at = noted();
    expect((await t.call("POST", "/v1/search", { token: free, body: { query: "the cat's pills", collection_id: cid } })).status).toBe(200);
    expect((await t.call("POST", "/v1/search", { token: pro, body: { query: "the parking level", collection_id: cid } })).status).toBe(200);
    expect(noted()).toBe(at + 2);
    const reranked = await t.call("POST", "/v1/search", { token: pro, body: { query: "the parking level", collection_id: cid, rerank: true } });
    expect(reranked.status).toBe(200);
    expect(noted()).toBe(at + 2);
  });

  test("enterprise may rerank; free and starter get 403", async () => {
    const { t, cid } = ctx;
    const enterprise = await t.token("premium-user", "enterprise");
    expect((await t.call("POST", "/v1/search", { token: enterprise, body: { query: "q", collection_id: cid, rerank: true } })).status).toBe(200);
    for (const tier of ["free", "starter"] as const) {
      const token = await t.token("premium-user", tier);
      const reply = await t.call("POST", "/v1/search", { token, body: { query: "q", collection_id: cid, rerank: true } });
      expect(reply.status).toBe(403);
      expect(reply.body.detail).toContain(tier);
    }
  });
});

describe("isolation: a full reranker queue degrades to unreranked results, never a slow or failed answer", () => {
  test("with a queue of 1, concurrent premium searches all answer 200; the overflow says reranker_busy and is not cached", async () => {
    const { t, pro, cid } = await setup({ maxQueue: 1 });
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t.call("POST", "/v1/search", { token: pro, body: { query: `question number ${i} about travel`, collection_id: cid, rerank: true } }),
      ),
    );
    for (const r of replies) expect(r.status).toBe(200);
    const busy = replies.filter((r) => r.body.rerank_reason === "reranker_busy");
    expect(busy.length).toBeGreaterThan(0);
    for (const r of busy) {
      expect(r.body.reranked).toBe(false);
      expect(r.body.results.length).toBe(10);
    }
    expect(replies.some((r) => r.body.reranked === true)).toBe(true);
    const i = replies.indexOf(busy[0]!);
    const again = await t.call("POST", "/v1/search", { token: pro, body: { query: `question number ${i} about travel`, collection_id: cid, rerank: true } });
    expect(again.body.cached).toBe(false);
  });
});

test("without a reranker, a premium rerank request still answers, saying why it was not reranked", async () => {
  const t = await createTestApp();
  apps.push(t);
  const pro = await t.token("u", "pro");
  const cid = await newCollection(t, pro);
  const reply = await t.call("POST", "/v1/search", { token: pro, body: { query: "q", collection_id: cid, rerank: true } });
  expect(reply.status).toBe(200);
  expect(reply.body).toMatchObject({ reranked: false, rerank_reason: "reranker_not_configured" });
});

if (!existsSync(MODEL_DIR)) throw new Error(`${MODEL_DIR} is missing: it is committed; restore it or run scripts/train-reranker/run`);
