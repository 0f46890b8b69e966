import { describe } from "bun:test";
import { silentLogger } from "../../src/log";
import { openRedisCache } from "../../src/stores/redis";
import { productionConfig, servicesAvailable } from "../support/services";
import { runSearchCacheContract } from "./search-cache.contract";

const run = await servicesAvailable("redis cache contract", ["redis"]);

describe.if(run)("real Redis", () => {
  runSearchCacheContract("redis SearchCache", async () => {
    const opened = await openRedisCache({ url: productionConfig.redisUrl, log: silentLogger });
    return { cache: opened.cache, cleanup: opened.close };
  });
});
