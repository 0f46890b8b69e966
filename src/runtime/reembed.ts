import { join } from "node:path";
import type { Config } from "../config";
import type { Logger } from "../log";
import { createOnnxEmbedder, type OnnxEmbedder } from "../ml/embedder";
import type { ReembedStore } from "../ports/reembed-store";
import type { SearchCache } from "../ports/search-cache";
import { openEmbeddedStores } from "../stores/embedded";
import { embedderOptions } from "./shared";

/** What `bun run reembed` works with: the server's stores and model, opened from its configuration. */
export interface ReembedRuntime {
  store: ReembedStore;
  embedder: OnnxEmbedder;
  cache: Pick<SearchCache, "bumpGeneration">;
  /** Where the collections are, for the progress output. */
  where: string;
  close(): Promise<void>;
}

/** A store made for other dimensions cannot open for this model: say what that means here. */
function dimensionsHint(error: unknown, dimensions: number): Error {
  const message = String(error instanceof Error ? error.message : error);
  if (!/dimension/i.test(message)) return error instanceof Error ? error : new Error(message);
  return new Error(
    `${message}. The configured model makes ${dimensions}-d vectors: re-embedding cannot change dimensions in place ` +
      `(see docs/models.md, "Changing dimensions")`,
  );
}

export async function openReembedRuntime(config: Config, log: Logger): Promise<ReembedRuntime> {
  const embedder = await createOnnxEmbedder(embedderOptions(config));
  try {
    if (config.mode === "embedded") {
      const path = join(config.dataDir, "memory.db");
      let stores;
      try {
        stores = openEmbeddedStores({ path, dimensions: embedder.dimensions, cacheMaxEntries: 1 });
      } catch (error) {
        throw dimensionsHint(error, embedder.dimensions);
      }
      return {
        store: stores.reembed,
        embedder,
        cache: stores.cache,
        where: path,
        async close() {
          stores.close();
          await embedder.close();
        },
      };
    }
    // Production: Postgres (source of truth) with Milvus as its only outbox target (the graph
    // does not hold vectors), Redis for the cache generation. Loaded only here, as the server does.
    const [{ openPostgresStores }, { openMilvusIndex }, { openRedisCache }] = await Promise.all([
      import("../stores/postgres"),
      import("../stores/milvus"),
      import("../stores/redis"),
    ]);
    const p = config.production;
    const milvus = await openMilvusIndex({ address: p.milvusAddress, dimensions: embedder.dimensions, replicas: p.milvusReplicas, log }).catch((error) => {
      throw dimensionsHint(error, embedder.dimensions);
    });
    try {
      await milvus.warm();
      const postgres = await openPostgresStores({
        url: p.databaseUrl,
        poolSize: 4,
        log,
        writers: [milvus.writer],
        dimensions: embedder.dimensions,
      });
      const redis = await openRedisCache({ redis: p.redis, log });
      return {
        store: postgres.reembed,
        embedder,
        cache: redis.searchCache(postgres.cacheGenerations),
        where: "postgres + milvus",
        async close() {
          await postgres.close();
          await Promise.all([milvus.close(), redis.close(), embedder.close()]);
        },
      };
    } catch (error) {
      await milvus.close();
      throw error;
    }
  } catch (error) {
    await embedder.close();
    throw error;
  }
}
