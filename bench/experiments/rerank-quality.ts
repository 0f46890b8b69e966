/**
 * `bun run bench/experiments/rerank-quality.ts`: reranking quality through the public API on held-out
 * labelled data (test/fixtures/rerank-heldout.json: the training generator's eval split, whose
 * names, relations and wordings the model never saw). Prints MRR@10, R@1 and R@5 for hybrid
 * search with and without the premium rerank. Embedded stores, the real models, in-process.
 */
import { buildApp } from "../../src/app";
import { createTokenService } from "../../src/auth/tokens";
import { silentLogger } from "../../src/log";
import { createOnnxEmbedder } from "../../src/ml/embedder";
import { createOnnxReranker } from "../../src/ml/reranker";
import { openEmbeddedStores } from "../../src/stores/embedded";
import heldout from "../../test/fixtures/rerank-heldout.json";

const embedder = await createOnnxEmbedder({ modelDir: "models/all-minilm-l6-v2" });
const reranker = await createOnnxReranker({ modelDir: process.env.RERANKER_MODEL_DIR ?? "models/reranker" });
const stores = openEmbeddedStores({ path: ":memory:", dimensions: embedder.dimensions });
const tokens = createTokenService("rerank-quality-secret-of-32-characters!!");
const app = buildApp({
  tokens,
  collections: stores.collections,
  memories: stores.memories,
  vectors: stores.vectors,
  cache: stores.cache,
  embedder,
  reranker,
  healthChecks: [],
  log: silentLogger,
  settings: { cacheTtlSeconds: 0, hybridCandidates: 50, maxBodyBytes: 10 * 1024 * 1024 },
});
const token = await tokens.sign({ sub: "bench", tier: "enterprise", ttlSeconds: 3600 });
const call = async (path: string, body: unknown) => {
  const response = await app.handle(
    new Request(`http://localhost${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
  return (await response.json()) as Record<string, any>;
};

const ranks: Record<"hybrid" | "reranked", number[]> = { hybrid: [], reranked: [] };
for (const collection of heldout.collections) {
  const { id } = await call("/v1/collections", { name: collection.id });
  await call(`/v1/collections/${id}/memories`, { memories: collection.memories });
  for (const [i, { query, relevant }] of collection.queries.entries()) {
    for (const rerank of [false, true]) {
      const answer = await call("/v1/search", { query, collection_id: id, search_type: "hybrid", top_k: 10, rerank });
      ranks[rerank ? "reranked" : "hybrid"].push(answer.results.map((r: { id: string }) => r.id).indexOf(relevant) + 1);
    }
    process.stderr.write(`\r${collection.id}: ${i + 1}/${collection.queries.length} queries`);
  }
  process.stderr.write("\n");
}
const at = (rs: number[], n: number) => rs.filter((r) => r > 0 && r <= n).length / rs.length;
const mrr = (rs: number[]) => rs.reduce((sum, r) => sum + (r > 0 ? 1 / r : 0), 0) / rs.length;
console.log(`| ranking (${ranks.hybrid.length} held-out queries) | MRR@10 | R@1 | R@5 |\n| --- | --- | --- | --- |`);
for (const [name, rs] of [["hybrid", ranks.hybrid], ["hybrid + rerank", ranks.reranked]] as const) {
  console.log(`| ${name} | ${mrr(rs).toFixed(3)} | ${at(rs, 1).toFixed(3)} | ${at(rs, 5).toFixed(3)} |`);
}
await Promise.all([embedder.close(), reranker.close()]);
stores.close();
