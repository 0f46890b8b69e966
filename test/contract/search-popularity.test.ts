import { describe } from "bun:test";
import { silentLogger } from "../../src/log";
import { InProcessPopularity } from "../../src/stores/in-process/popularity";
import { createRedisClient } from "../../src/stores/redis/client";
import { RedisPopularity } from "../../src/stores/redis/popularity";
import { productionConfig, servicesAvailable } from "../support/services";
import { runSearchPopularityContract } from "./search-popularity.contract";

runSearchPopularityContract("in-process SearchPopularity", async (options) => ({
  popularity: new InProcessPopularity(options),
  cleanup: async () => {},
}));

const run = await servicesAvailable("redis popularity contract", ["redis"]);
describe.if(run)("real Redis", () => {
  runSearchPopularityContract("redis SearchPopularity", async (options) => {
    const redis = createRedisClient(productionConfig.redisUrl, silentLogger);
    await redis.connect();
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
});
