/**
 * Reranking quality on labelled data the model never saw in training (the training generator's
 * held-out split: other names, relations and wordings), through the public API: the premium
 * rerank must raise MRR@10 and recall@5 over plain hybrid search.
 */
import { afterAll, expect, test } from "bun:test";
import { createOnnxReranker } from "../../src/ml/reranker";
import { createTestApp, newCollection } from "../support/app";
import heldout from "../fixtures/rerank-heldout.json";

// This test measures answers, not latency: a generous wait keeps a busy CI box (the real
// services share its two cores) from answering some queries unreranked (the degrade path,
// tested in the reranker's own tests).
const reranker = await createOnnxReranker({ modelDir: process.env.RERANKER_MODEL_DIR ?? "models/reranker", maxWaitMs: 60_000 });
const t = await createTestApp({ reranker });
afterAll(async () => {
  await t.close();
  await reranker.close();
});

interface Metrics {
  mrr10: number;
  recall5: number;
}

function score(ranks: number[]): Metrics {
  return {
    mrr10: ranks.reduce((sum, r) => sum + (r > 0 && r <= 10 ? 1 / r : 0), 0) / ranks.length,
    recall5: ranks.filter((r) => r > 0 && r <= 5).length / ranks.length,
  };
}

test("rerank raises MRR@10 and recall@5 over hybrid on held-out data", async () => {
  const token = await t.token("rerank-quality", "enterprise");
  const ranks = { hybrid: [] as number[], reranked: [] as number[] };
  for (const collection of heldout.collections) {
    const cid = await newCollection(t, token);
    const added = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: collection.memories } });
    expect(added.status).toBe(201);
    for (const { query, relevant } of collection.queries) {
      for (const rerank of [false, true]) {
        const reply = await t.call("POST", "/v1/search", {
          token,
          body: { query, collection_id: cid, search_type: "hybrid", top_k: 10, rerank },
        });
        expect(reply.status).toBe(200);
        expect(reply.body.reranked).toBe(rerank);
        const ids: string[] = reply.body.results.map((r: { id: string }) => r.id);
        (rerank ? ranks.reranked : ranks.hybrid).push(ids.indexOf(relevant) + 1);
      }
    }
  }
  const hybrid = score(ranks.hybrid);
  const reranked = score(ranks.reranked);
  console.log(
    `rerank quality on ${ranks.hybrid.length} held-out queries: hybrid MRR@10 ${hybrid.mrr10.toFixed(3)} R@5 ${hybrid.recall5.toFixed(3)}; ` +
      `hybrid+rerank MRR@10 ${reranked.mrr10.toFixed(3)} R@5 ${reranked.recall5.toFixed(3)}`,
  );
  expect(reranked.mrr10).toBeGreaterThan(hybrid.mrr10);
  expect(reranked.recall5).toBeGreaterThan(hybrid.recall5);
}, 300_000);
