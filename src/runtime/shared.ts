import type { AppDeps } from "../app";
import type { Config } from "../config";
import type { OnnxEmbedderOptions } from "../ml/embedder";
import type { Embedder } from "../ports/embedder";
import type { HealthCheck } from "../ports/health-check";
import type { WebhookStore } from "../ports/webhook-store";

/** What both runtimes build the same way from the configuration. */
export const embedderOptions = (config: Config): OnnxEmbedderOptions => ({
  modelDir: config.embedding.modelDir,
  maxBatch: config.embedding.maxBatch,
  maxQueue: config.embedding.maxQueue,
  queryCacheSize: config.embedding.queryCacheSize,
  threads: config.embedding.threads,
  workers: config.embedding.workers,
  batchInvariant: config.embedding.batchInvariant,
});

export const appSettings = (config: Config): AppDeps["settings"] => ({
  cacheTtlSeconds: config.cacheTtlSeconds,
  cacheHot: { hotTtlSeconds: config.cachePolicy.hotTtlSeconds, hotThreshold: config.cachePolicy.hotThreshold },
  prewarmTop: config.cachePolicy.prewarmTop,
  rollForward: config.cachePolicy.rollForward ?? undefined,
  hybridCandidates: config.search.hybridCandidates,
  hybrid: {
    rrfK: config.search.hybridRrfK,
    semanticWeight: config.search.hybridSemanticWeight,
    keywordWeight: config.search.hybridKeywordWeight,
  },
  maxBodyBytes: config.maxBodyBytes,
  requestTimeoutMs: config.requestTimeoutMs,
  idempotencyRetentionSeconds: config.idempotencyRetentionSeconds,
  rerankCandidates: config.reranker.candidates,
  graphExtraction: config.graphExtraction,
  accessLog: config.accessLog,
  cost: config.cost,
});

export const embedderHealth = (embedder: Embedder): HealthCheck => ({
  check: async () => ({ name: "embedder", ready: true, detail: embedder.model }),
});

/**
 * A dependency the service degrades without instead of failing: /ready stays 200 ("degraded").
 * Neo4j is one while nothing in the request path reads it (writes reach it through the outbox).
 */
export const optionalDependency = (inner: HealthCheck): HealthCheck => ({
  check: async () => ({ ...(await inner.check()), optional: true }),
});

/** The webhook routes' dependencies from the configuration. */
export const webhookDeps = (config: Config, store: WebhookStore): NonNullable<AppDeps["webhooks"]> => ({
  store,
  policy: { privateTargets: config.webhooks.privateTargets, allowedHosts: config.webhooks.allowedHosts },
  timeoutMs: config.webhooks.timeoutMs,
});
