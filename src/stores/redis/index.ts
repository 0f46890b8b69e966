import type { RedisTopology } from "../../config";
import type { Logger } from "../../log";
import { RedisSearchCache } from "./cache";
import type { GenerationLedger } from "../../ports/generation-ledger";
import { createRedisClient } from "./client";
import { RedisHealthCheck } from "./health";

/** `redis`: the configured topology, or a URL for one server. */
export async function openRedisCache(opts: { redis: RedisTopology | string; log: Logger }) {
  const redis = createRedisClient(opts.redis, opts.log);
  try {
    await redis.connect();
  } catch (error) {
    // Not fatal: the API serves without its cache and the client keeps reconnecting.
    opts.log.warn("redis is not reachable at start; serving without the search cache", { error: String(error) });
  }
  return {
    redis,
    /** The search cache on this client, its generations checked against `ledger` (cache.ts). */
    searchCache: (ledger: GenerationLedger) => new RedisSearchCache(redis, ledger),
    health: new RedisHealthCheck(redis),
    async close() {
      redis.disconnect();
    },
  };
}
