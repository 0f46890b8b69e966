/**
 * RERANKER_KIND=bi-encoder through the embedded runtime, as a server starts it: premium searches
 * are rescored by the bi-encoder of RERANKER_BI_ENCODER_DIR (here the test model stands in for
 * the larger e5-small-v2 a deployment fetches) blended with the hybrid order over its own pool;
 * a missing folder leaves the service up with reranking off, and answers say why.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { silentLogger } from "../../src/log";
import { openEmbeddedRuntime, type Runtime } from "../../src/runtime/embedded";
import { TEST_MODEL_DIR } from "../support/embedder";

const root = mkdtempSync(join(tmpdir(), "premium-bi-encoder-"));
const runtimes: Runtime[] = [];
afterAll(async () => {
  for (const runtime of runtimes) await runtime.close();
  rmSync(root, { recursive: true, force: true });
});

async function premiumApp(env: Record<string, string>) {
  const config = loadConfig({ DATA_DIR: join(root, crypto.randomUUID()), LOG_LEVEL: "silent", RERANKER_KIND: "bi-encoder", ...env });
  const runtime = await openEmbeddedRuntime(config, silentLogger, "premium-bi-encoder-secret-of-32-characters");
  runtimes.push(runtime);
  const app = buildApp(runtime.deps);
  const token = await runtime.deps.tokens.sign({ sub: "premium", tier: "enterprise", ttlSeconds: 600 });
  const call = async (path: string, body: unknown) => {
    const response = await app.handle(
      new Request(`http://localhost${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) }),
    );
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const created = await call("/v1/collections", { name: "notes" });
  expect(created.status).toBe(201);
  const memories = [
    "The ferry to the island leaves from pier 4 every morning at seven.",
    "Boats to the island are cancelled when the wind is above force 6.",
    "The island has one café, open only in summer.",
    "Our cat sleeps on the windowsill most afternoons.",
    "Quarterly revenue grew by twelve percent, driven by subscriptions.",
    "The ferry ticket office at the pier opens at half past six.",
    "Remember to water the tomatoes on the balcony.",
    "The morning boat is often full on summer weekends.",
  ];
  expect((await call(`/v1/collections/${created.body.id}/memories`, { memories: memories.map((content) => ({ content })) })).status).toBe(201);
  const search = (rerank: boolean, topK = 5) =>
    call("/v1/search", { query: "when does the morning ferry to the island leave", collection_id: created.body.id, search_type: "hybrid", top_k: topK, rerank });
  const metrics = async () => (await app.handle(new Request("http://localhost/metrics"))).text();
  return { config, search, metrics };
}

describe("premium ranking by a bi-encoder (RERANKER_KIND=bi-encoder)", () => {
  test("premium searches are rescored from the hybrid candidates, with the bi-encoder's own blend and pool", async () => {
    const { config, search, metrics } = await premiumApp({ RERANKER_BI_ENCODER_DIR: TEST_MODEL_DIR });
    expect(config.reranker).toMatchObject({ candidates: 20, interpolationWeight: 0.5 });
    const premium = await search(true);
    expect(premium.status).toBe(200);
    expect(premium.body.reranked).toBe(true);
    expect(premium.body.rerank_reason).toBeUndefined();
    const ids = (answer: Record<string, any>) => (answer.results as { id: string }[]).map((r) => r.id);
    expect(ids(premium.body)).toHaveLength(5);
    // a rescoring of the hybrid candidates (the first 20), never another retrieval
    const pool = new Set(ids((await search(false, 20)).body));
    for (const id of ids(premium.body)) expect(pool.has(id)).toBe(true);
    expect(premium.body.results[0].content).toContain("ferry");
    // /metrics reads the bi-encoder as it reads the cross-encoder: one rescoring, its candidates
    const scraped = await metrics();
    expect(scraped).toMatch(/^memory_api_reranker_batches_total 1$/m);
    expect(scraped).toMatch(/^memory_api_reranker_pairs_total [1-9]\d*$/m);
  });

  test("no bi-encoder folder: the service runs, premium searches answer unreranked and say why", async () => {
    const { search } = await premiumApp({ RERANKER_BI_ENCODER_DIR: join(root, "missing-model") });
    const premium = await search(true);
    expect(premium.status).toBe(200);
    expect(premium.body).toMatchObject({ reranked: false, rerank_reason: "reranker_not_configured" });
    expect(premium.body.results.length).toBeGreaterThan(0);
  });
});
