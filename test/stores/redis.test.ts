import { describe } from "bun:test";
import { silentLogger } from "../../src/log.ts";
import { TieredSearchCache } from "../../src/stores/in-process/tiered-cache.ts";
import { openRedisCache } from "../../src/stores/redis/index.ts";
import { RedisPopularity } from "../../src/stores/redis/popularity.ts";
import { RedisRateLimiter } from "../../src/stores/redis/rate-limiter.ts";
import { runRateLimiterContract } from "../ports/rate-limiter.contract.ts";
import { runSearchCacheContract } from "../ports/search-cache.contract.ts";
import { runSearchPopularityContract } from "../ports/search-popularity.contract.ts";
import { productionConfig, servicesAvailable } from "../support/services.ts";
import { openRedisClient, RUN_ID, sharedGenerationLedger } from "./service-setup.ts";

const run = await servicesAvailable("redis contracts", ["redis", "postgres"]);

describe.if(run)("real Redis", () => {
  // generations are checked against PostgreSQL's ledger, as production composes it
  const ledger = sharedGenerationLedger(`redis_contract_${RUN_ID}`);
  const redisCache = async () => {
    const [opened, { ledger: generations, newCollection }] = await Promise.all([
      openRedisCache({ redis: productionConfig.redisUrl, log: silentLogger }),
      ledger(),
    ]);
    return { cache: opened.searchCache(generations), newCollection, cleanup: opened.close };
  };

  runSearchCacheContract("redis SearchCache", redisCache);

  // As production composes it (src/runtime/production.ts): a worker-local first level in front of Redis.
  runSearchCacheContract("tiered SearchCache over Redis", async () => {
    const { cache, ...rest } = await redisCache();
    return { cache: new TieredSearchCache(cache, { maxEntries: 1000, maxTtlSeconds: 900 }), ...rest };
  });

  runSearchPopularityContract("redis SearchPopularity", async (options) => {
    const redis = await openRedisClient();
    // its own key prefix: the contract's made-up searches must not look popular to a real deployment
    const prefix = `memory-api-test:pop:${crypto.randomUUID()}:`;
    return {
      popularity: new RedisPopularity(redis, { ...options, prefix }),
      cleanup: async () => {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    };
  });

  runRateLimiterContract("redis RateLimiter", async () => {
    const redis = await openRedisClient();
    return { limiter: new RedisRateLimiter(redis, silentLogger), cleanup: async () => redis.disconnect() };
  });
});
