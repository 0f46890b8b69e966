/**
 * An in-process app for the rerank experiments: embedded in-memory stores, the real embedder,
 * and the premium reranker wired as the server wires it (src/runtime/reranker.ts), configured
 * from the environment (RERANKER_MODEL_DIR, RERANK_*, HYBRID_*). `call` posts as an enterprise user.
 */
import { buildApp } from "../../src/app";
import { createTokenService } from "../../src/auth/tokens";
import type { Config } from "../../src/config";
import { silentLogger } from "../../src/log";
import { createOnnxEmbedder } from "../../src/ml/embedder";
import { openPremiumScorer, premiumReranker } from "../../src/runtime/reranker";
import { openEmbeddedStores } from "../../src/stores/embedded";

export interface PremiumApp {
  /** POST as the enterprise user; a status of 300 or more throws. */
  call(path: string, body: unknown, opts?: { rerankCandidates?: number }): Promise<Record<string, any>>;
  close(): Promise<void>;
}

export async function openPremiumApp(config: Config): Promise<PremiumApp> {
  const embedder = await createOnnxEmbedder({ modelDir: config.embedding.modelDir });
  const scorer = await openPremiumScorer(config, silentLogger);
  if (!scorer) throw new Error(`no ${config.reranker.kind} model in ${config.reranker.kind === "bi-encoder" ? config.reranker.biEncoderDir : config.reranker.modelDir}`);
  const stores = openEmbeddedStores({ path: ":memory:", dimensions: embedder.dimensions });
  const tokens = createTokenService("premium-experiment-secret-of-32-characters!!");
  const token = await tokens.sign({ sub: "bench", tier: "enterprise", ttlSeconds: 24 * 3600 });
  const apps = new Map<number, ReturnType<typeof buildApp>>();
  const appWith = (rerankCandidates: number) => {
    if (!apps.has(rerankCandidates)) {
      apps.set(
        rerankCandidates,
        buildApp({
          tokens,
          collections: stores.collections,
          memories: stores.memories,
          vectors: stores.vectors,
          cache: stores.cache,
          embedder,
          reranker: premiumReranker(config, scorer),
          healthChecks: [],
          log: silentLogger,
          settings: {
            cacheTtlSeconds: 0,
            hybridCandidates: config.search.hybridCandidates,
            hybrid: { rrfK: config.search.hybridRrfK, semanticWeight: config.search.hybridSemanticWeight, keywordWeight: config.search.hybridKeywordWeight },
            rerankCandidates,
            maxBodyBytes: 10 * 1024 * 1024,
          },
        }),
      );
    }
    return apps.get(rerankCandidates)!;
  };
  return {
    async call(path, body, opts = {}) {
      const response = await appWith(opts.rerankCandidates ?? config.reranker.candidates).handle(
        new Request(`http://localhost${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
      if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as Record<string, any>;
    },
    async close() {
      await Promise.all([embedder.close(), scorer.close()]);
      stores.close();
    },
  };
}
