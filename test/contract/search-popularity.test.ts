import { describe } from "bun:test";
import { silentLogger } from "../../src/log";
import { InProcessPopularity } from "../../src/stores/memory-popularity";
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
    return { popularity: new RedisPopularity(redis, options), cleanup: async () => redis.disconnect() };
  });
});
