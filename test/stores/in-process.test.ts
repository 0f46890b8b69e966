import { expect, test } from "bun:test";
import type { SearchCache } from "../../src/ports/search-cache.ts";
import { MemorySearchCache } from "../../src/stores/in-process/cache.ts";
import { InProcessPopularity } from "../../src/stores/in-process/popularity.ts";
import { InProcessRateLimiter } from "../../src/stores/in-process/rate-limiter.ts";
import { TieredSearchCache } from "../../src/stores/in-process/tiered-cache.ts";
import { runRateLimiterContract } from "../ports/rate-limiter.contract.ts";
import { runSearchCacheContract } from "../ports/search-cache.contract.ts";
import { runSearchPopularityContract } from "../ports/search-popularity.contract.ts";

const nothingToClean = async () => {};

/** The in-process LRU on its own, bounded at 5 for the LRU test. */
runSearchCacheContract("in-process SearchCache", async () => ({ cache: new MemorySearchCache({ maxEntries: 5 }), cleanup: nothingToClean }), {
  lruMaxEntries: 5,
});
/**
 * The tiered cache over an in-process shared level (test/stores/redis.test.ts runs it over Redis,
 * as production composes it). Not an LRU to the contract: what its first level evicts, the
 * shared level still answers.
 */
runSearchCacheContract("tiered SearchCache (over an in-process shared level)", async () => ({
  cache: new TieredSearchCache(new MemorySearchCache(), { maxEntries: 5, maxTtlSeconds: 60 }),
  cleanup: nothingToClean,
}));
runSearchPopularityContract("in-process SearchPopularity", async (options) => ({ popularity: new InProcessPopularity(options), cleanup: nothingToClean }));
runRateLimiterContract("in-process RateLimiter", async () => ({ limiter: new InProcessRateLimiter(), cleanup: nothingToClean }));

// TieredSearchCache specifics: what reaches the shared level, and the first level's bounds.

/** A shared level that counts what reaches it. */
function countingShared() {
  const inner = new MemorySearchCache();
  const calls = { get: 0, set: 0, generation: 0, bump: 0 };
  const shared: SearchCache = {
    get: (k) => (calls.get++, inner.get(k)),
    set: (k, v, ttl) => (calls.set++, inner.set(k, v, ttl)),
    generation: (c) => (calls.generation++, inner.generation(c)),
    bumpGeneration: (c) => (calls.bump++, inner.bumpGeneration(c)),
  };
  return { shared, calls, inner };
}

test("a value set through the tiers is then served from the first level, without reaching the shared one", async () => {
  const { shared, calls } = countingShared();
  const cache = new TieredSearchCache(shared, { maxEntries: 10, maxTtlSeconds: 60 });
  await cache.set("k", "v", 30);
  expect(calls.set).toBe(1);
  for (let i = 0; i < 5; i++) expect(await cache.get("k")).toBe("v");
  expect(calls.get).toBe(0);
  expect(cache.stats.l1Hits).toBe(5);
});

test("a value another worker stored is fetched once from the shared level, then held locally", async () => {
  const { shared, calls, inner } = countingShared();
  await inner.set("k", "from another worker", 30);
  const cache = new TieredSearchCache(shared, { maxEntries: 10, maxTtlSeconds: 60 });
  expect(await cache.get("k")).toBe("from another worker");
  expect(await cache.get("k")).toBe("from another worker");
  expect(calls.get).toBe(1);
  expect(cache.stats).toEqual({ l1Hits: 1, l2Hits: 1, misses: 0 });
  expect(await cache.get("absent")).toBeNull();
  expect(cache.stats.misses).toBe(1);
});

test("generations always come from the shared level, so every worker sees another's write at once", async () => {
  const { shared, calls } = countingShared();
  const a = new TieredSearchCache(shared, { maxEntries: 10, maxTtlSeconds: 60 });
  const b = new TieredSearchCache(shared, { maxEntries: 10, maxTtlSeconds: 60 });
  expect(await b.generation("c")).toBe(0);
  await a.bumpGeneration("c");
  expect(await b.generation("c")).toBe(1);
  expect(calls.generation).toBe(2);
});

test("first-level entries expire and are bounded", async () => {
  let now = 1_000_000;
  const { shared } = countingShared();
  const cache = new TieredSearchCache(shared, { maxEntries: 2, maxTtlSeconds: 10, now: () => now });
  await cache.set("short", "s", 5);
  now += 6_000;
  // gone from the first level; the shared level (real clock) still has it and refills it
  expect(await cache.get("short")).toBe("s");
  expect(cache.stats.l2Hits).toBe(1);
  await cache.set("a", "1", 60);
  await cache.set("b", "2", 60);
  await cache.set("c", "3", 60);
  const before = cache.stats.l2Hits;
  expect(await cache.get("a")).toBe("1"); // evicted locally (bound 2): fetched from the shared level
  expect(cache.stats.l2Hits).toBe(before + 1);
});
