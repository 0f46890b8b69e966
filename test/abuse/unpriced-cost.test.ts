/**
 * Attack (issue 18, item 5): a 1,000-memory batch cost one rate-limit unit, as much as a cached
 * search, so the free tier's 100 requests a minute let one client embed 100,000 memories a
 * minute; a graph search cost the same as a keyword one. Now a memory costs one unit plus one
 * per 16 KiB, a graph search 5, and a request costing more than the whole budget is a 422 that
 * says so. The shared limiter of the mode (in-process embedded, Redis GCRA in production).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type Redis from "ioredis";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { backendName } from "../support/backend";
import { productionConfig } from "../support/services";
import { silentLogger } from "../../src/log";
import { InProcessRateLimiter } from "../../src/stores/in-process/rate-limiter";
import type { RateLimiter } from "../../src/ports/rate-limiter";

const budgets = { free: 100, starter: 10, pro: 10_000, enterprise: 100_000 };
let t: TestApp;
let redis: Redis | undefined;

beforeAll(async () => {
  let limiter: RateLimiter = new InProcessRateLimiter();
  if (backendName() === "production") {
    const [{ createRedisClient }, { RedisRateLimiter }] = await Promise.all([
      import("../../src/stores/redis/client"),
      import("../../src/stores/redis/rate-limiter"),
    ]);
    redis = createRedisClient(productionConfig.redisUrl, silentLogger);
    await redis.connect();
    limiter = new RedisRateLimiter(redis, silentLogger, `memory-api-test:rl:${crypto.randomUUID()}:`);
  }
  t = await createTestApp({ rateLimit: { limiter, perMinute: budgets } });
}, 120_000);
afterAll(async () => {
  await t.close();
  redis?.disconnect();
}, 60_000);

const memories = (n: number, content = (i: number) => `note ${i} about the garden`) => ({
  memories: Array.from({ length: n }, (_, i) => ({ content: content(i) })),
});

describe(`rate limits priced by cost (${backendName()})`, () => {
  test("a batch costs one unit per memory: two batches of 45 spend a free minute", async () => {
    const token = await t.token(`batcher-${crypto.randomUUID()}`, "free");
    const cid = await newCollection(t, token); // 1 unit
    expect((await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: memories(45) })).status).toBe(201); // 45
    expect((await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: memories(45) })).status).toBe(201); // 90
    const third = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: memories(45) });
    expect(third.status).toBe(429);
    expect(third.headers.get("content-type")).toContain("application/problem+json");
    expect(third.body.code).toBe("rate_limited");
    expect(third.body.detail).toContain("costs 45 units");
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  }, 60_000);

  test("a batch costing more than the whole budget is a 422 naming the field, not a 429 to retry", async () => {
    const token = await t.token(`bulk-${crypto.randomUUID()}`, "free");
    const cid = await newCollection(t, token);
    const reply = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: memories(101) });
    expect(reply.status).toBe(422);
    expect(reply.body.field).toBe("memories");
    expect(reply.body.detail).toContain("costs 101 units and the free plan allows 100 a minute");
  });

  test("long texts cost more: 16 memories of 60 KB cost 64 units, so a second batch is refused", async () => {
    const token = await t.token(`long-${crypto.randomUUID()}`, "free");
    const cid = await newCollection(t, token);
    const body = memories(16, (i) => `${i} ${"lorem ipsum ".repeat(5000)}`); // 60 KB: 1 + 3 units each
    expect((await t.call("POST", `/v1/collections/${cid}/memories`, { token, body })).status).toBe(201);
    const second = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body });
    expect(second.status).toBe(429);
    expect(second.body.detail).toContain("costs 64 units");
  }, 60_000);

  test("a graph search costs 5 units; a keyword search 1", async () => {
    const token = await t.token(`grapher-${crypto.randomUUID()}`, "starter"); // 10 a minute
    const keywordToken = await t.token(`reader-${crypto.randomUUID()}`, "starter");
    const [cid, cid2] = [await newCollection(t, token), await newCollection(t, keywordToken)];
    const search = (tok: string, collection_id: string, search_type: string) =>
      t.call("POST", "/v1/search", { token: tok, body: { query: "garden", collection_id, search_type } });
    // 1 (collection) + 5 = 6, then 11 > 10
    expect((await search(token, cid, "graph")).status).toBe(200);
    const second = await search(token, cid, "graph");
    expect(second.status).toBe(429);
    expect(second.body.detail).toContain("costs 5 units");
    // 1 (collection) + 9 keyword searches = 10
    const statuses = [];
    for (let i = 0; i < 9; i++) statuses.push((await search(keywordToken, cid2, "keyword")).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
  });
});
