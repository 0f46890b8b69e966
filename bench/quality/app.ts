/**
 * The app the quality eval talks to: `buildApp` over fresh stores (embedded SQLite in memory,
 * or the real services with `production`, as the API test suites build them), the embedding
 * model of a given folder and, for premium searches, a given reranker. In-process via
 * `app.handle`, so latency is the service's own, without HTTP.
 */
import { buildApp } from "../../src/app";
import { createTokenService } from "../../src/auth/tokens";
import { silentLogger } from "../../src/log";
import { createOnnxEmbedder, type OnnxEmbedder } from "../../src/ml/embedder";
import type { HybridFusion } from "../../src/search/pipeline";
import type { Reranker } from "../../src/ports/reranker";
import { openBackend } from "../../test/support/backend";
import type { ApiCall } from "./eval";

export interface QualityAppOptions {
  embeddingModelDir: string;
  /** A ready embedder (shared between runs); otherwise one is made from the folder. */
  embedder?: OnnxEmbedder;
  reranker?: Reranker;
  production?: boolean;
  hybridCandidates?: number;
  hybrid?: HybridFusion;
  rerankCandidates?: number;
}

export interface QualityApp {
  call: ApiCall;
  embedder: OnnxEmbedder;
  /** Another app over the same stores and user (collections are shared) with other search settings. */
  variant(settings: Pick<QualityAppOptions, "reranker" | "hybridCandidates" | "hybrid" | "rerankCandidates">): ApiCall;
  close(): Promise<void>;
}

const SECRET = "quality-eval-secret-of-at-least-32-characters";

export async function openQualityApp(opts: QualityAppOptions): Promise<QualityApp> {
  const embedder = opts.embedder ?? (await createOnnxEmbedder({ modelDir: opts.embeddingModelDir }));
  if (opts.production) process.env.TEST_BACKEND = "production";
  const backend = await openBackend(embedder);
  const tokens = createTokenService(SECRET);
  // enterprise: premium (rerank allowed); no rate limit is configured
  const token = await tokens.sign({ sub: "quality-eval", tier: "enterprise", ttlSeconds: 24 * 3600 });
  const make = (settings: Pick<QualityAppOptions, "reranker" | "hybridCandidates" | "hybrid" | "rerankCandidates">): ApiCall => {
    const app = buildApp({
      tokens,
      collections: backend.collections,
      memories: backend.memories,
      vectors: backend.vectors,
      graph: backend.graph,
      cache: backend.cache,
      embedder,
      reranker: settings.reranker,
      healthChecks: [],
      log: silentLogger,
      settings: {
        cacheTtlSeconds: 0,
        hybridCandidates: settings.hybridCandidates ?? 50,
        hybrid: settings.hybrid,
        rerankCandidates: settings.rerankCandidates,
        maxBodyBytes: 64 * 1024 * 1024,
        requestTimeoutMs: 600_000,
      },
    });
    return async (path, body) => {
      const response = await app.handle(
        new Request(`http://localhost${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
      const text = await response.text();
      if (path.endsWith("/memories")) await backend.settle(600_000); // production: derived indexes caught up
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };
  };
  return {
    call: make(opts),
    embedder,
    variant: make,
    async close() {
      await backend.close();
      if (!opts.embedder) await embedder.close();
    },
  };
}
