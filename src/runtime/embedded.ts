import { ensurePrivateDir } from "../stores/embedded/private-files";
import { join } from "node:path";
import type { Config } from "../config";
import type { AppDeps } from "../app";
import type { Logger } from "../log";
import { openEmbeddedStores } from "../stores/embedded";
import { createOnnxEmbedder } from "../ml/embedder";
import { createTokenService } from "../auth/tokens";
import { openPremiumScorer, premiumReranker } from "./reranker";
import { appSettings, embedderHealth, embedderOptions, webhookDeps } from "./shared";
import { InProcessRateLimiter } from "../stores/in-process/rate-limiter";
import { createMetrics } from "../metrics/metrics";
import { timedCollections, timedMemories, timedVectors, watch } from "../metrics/stores";
import { InProcessPopularity } from "../stores/in-process/popularity";
import { openRevocationStore, startRevocationList, tokenPolicy } from "./revocations";
import type { ExpiringMemoryStore } from "../ports/memory-expiry";

export interface Runtime {
  deps: AppDeps;
  /** The purge of expired memories, for the sweeper (src/maintenance). */
  expiry?: ExpiringMemoryStore;
  close(): Promise<void>;
}

/** The embedded default: SQLite (sqlite-vec + FTS5) and an in-process cache, nothing to install. */
export async function openEmbeddedRuntime(config: Config, log: Logger, jwtSecret: string): Promise<Runtime> {
  if (!ensurePrivateDir(config.dataDir)) {
    log.warn("DATA_DIR is accessible by other users and is not ours to change; keep the database in a folder of its own", { path: config.dataDir });
  }
  const scorer = await openPremiumScorer(config, log);
  const embedder = await createOnnxEmbedder(embedderOptions(config));
  const stores = openEmbeddedStores({
    path: join(config.dataDir, "memory.db"),
    dimensions: embedder.dimensions,
    cacheMaxEntries: config.cacheMaxEntries,
    cacheMaxBytes: config.cacheMaxBytes,
    cacheMaxEntryBytes: config.cacheMaxEntryBytes,
    searchThreads: config.embeddedSearchThreads,
    ann: config.embeddedAnnMinRows === null ? undefined : { minRows: config.embeddedAnnMinRows },
    log,
  });
  // the ANN indexes of big collections loaded (or built) in the background: searches scan exactly until then
  stores.warmAnn().then(
    (searchers) => {
      if (searchers.length > 0) log.info("ANN indexes ready", { collections: searchers.reduce((n, s) => n + Object.keys(s.indexed).length, 0) });
    },
    (error) => log.debug("ANN warm-up stopped", { error: (error as Error).message }),
  );
  const embedderCheck = embedderHealth(embedder);
  const revocationStore = await openRevocationStore(config, log);
  const revocations = await startRevocationList(revocationStore.store, config, log);
  const metrics = createMetrics({ processMetrics: true });
  watch(metrics, { embedder, embedderQueueLimit: config.embedding.maxQueue, reranker: scorer, rerankerQueueLimit: config.reranker.maxQueue });
  return {
    deps: {
      tokens: createTokenService(jwtSecret, { policy: tokenPolicy(config), revocations }),
      apiKeys: stores.apiKeys,
      collections: timedCollections(metrics, "sqlite", stores.collections),
      memories: timedMemories(metrics, "sqlite", stores.memories),
      history: stores.memories,
      changeFeed: stores.changeFeed,
      vectors: timedVectors(metrics, "sqlite", stores.vectors),
      graph: stores.graph,
      cache: stores.cache,
      idempotency: stores.idempotency,
      webhooks: webhookDeps(config, stores.webhooks),
      popularity: new InProcessPopularity({ halfLifeMs: config.cachePolicy.popularityHalfLifeSeconds * 1000 }),
      embedder,
      reranker: premiumReranker(config, scorer),
      healthChecks: [stores.health, embedderCheck],
      rateLimit: config.rateLimits ? { limiter: new InProcessRateLimiter(), perMinute: config.rateLimits } : undefined,
      tierLimits: config.tierLimits ?? undefined,
      usage: stores.usage,
      log,
      metrics,
      settings: appSettings(config),
    },
    expiry: stores.memories,
    async close() {
      await embedder.close();
      await scorer?.close();
      await revocations.close();
      await revocationStore.close();
      stores.close();
    },
  };
}
