import { describe } from "bun:test";
import { silentLogger } from "../../src/log";
import { InProcessRateLimiter } from "../../src/stores/in-process/rate-limiter";
import { createRedisClient } from "../../src/stores/redis/client";
import { RedisRateLimiter } from "../../src/stores/redis/rate-limiter";
import { productionConfig, servicesAvailable } from "../support/services";
import { runRateLimiterContract } from "./rate-limiter.contract";

runRateLimiterContract("in-process RateLimiter", async () => ({ limiter: new InProcessRateLimiter(), cleanup: async () => {} }));

const run = await servicesAvailable("redis rate limiter contract", ["redis"]);
describe.if(run)("real Redis", () => {
  runRateLimiterContract("redis RateLimiter", async () => {
    const redis = createRedisClient(productionConfig.redisUrl, silentLogger);
    await redis.connect();
    return { limiter: new RedisRateLimiter(redis, silentLogger), cleanup: async () => redis.disconnect() };
  });
});
