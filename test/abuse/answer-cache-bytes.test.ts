/**
 * Attack: fill a worker's memory through its answer cache. It was bounded by entries only
 * (10,000, each up to 100 results × 64 K characters), so long answers could take gigabytes, and
 * expired entries stayed until evicted (issue 18, item 2).
 *
 * The cache under test is the one each mode keeps in a worker's memory: the in-process cache
 * (embedded) or the first level in front of Redis (production), with small byte bounds. The
 * byte check does not trust the cache's own count alone: entries held × the smallest answer
 * seen must also fit the budget.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { MemorySearchCache, type MemorySearchCacheOptions } from "../../src/stores/in-process/cache";
import { TieredSearchCache } from "../../src/stores/in-process/tiered-cache";
import type { SearchCache } from "../../src/ports/search-cache";

const MAX_BYTES = 256 * 1024;
const MAX_ENTRY_BYTES = 128 * 1024;
const CONTENT_CHARS = 4000;

/** The mode's worker-level cache, rebuilt with these bounds (production keeps its Redis level). */
function boundedLike(inner: SearchCache, options: MemorySearchCacheOptions): { cache: SearchCache; local: MemorySearchCache } {
  if (inner instanceof TieredSearchCache) {
    const cache = new TieredSearchCache(inner.shared, { maxEntries: 1000, maxTtlSeconds: 900, ...options });
    return { cache, local: cache.l1 };
  }
  const local = new MemorySearchCache({ maxEntries: 1000, ...options });
  return { cache: local, local };
}

async function fill(t: TestApp, token: string): Promise<string> {
  const collection = await newCollection(t, token);
  const memories = Array.from({ length: 20 }, (_, i) => ({
    content: `Note ${i} about travel, budgets and plans. ${"All the details of the trip, day by day. ".repeat(CONTENT_CHARS / 40)}`,
  }));
  const reply = await t.call("POST", `/v1/collections/${collection}/memories`, { token, body: { memories } });
  expect(reply.status).toBe(201);
  await t.backend.settle();
  return collection;
}

describe("the answer cache is bounded by bytes", () => {
  let t: TestApp;
  let token: string;
  let local: MemorySearchCache;
  let collection: string;

  beforeAll(async () => {
    t = await createTestApp({
      wrap: {
        cache: (inner) => {
          const bounded = boundedLike(inner, { maxBytes: MAX_BYTES, maxEntryBytes: MAX_ENTRY_BYTES });
          local = bounded.local;
          return bounded.cache;
        },
      },
    });
    token = await t.token("cache-filler", "enterprise");
    collection = await fill(t, token);
  });
  afterAll(() => t.close());

  test("many large answers: the bytes held stay within the budget", async () => {
    let smallest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 30; i++) {
      const reply = await t.call("POST", "/v1/search", { token, body: { collection_id: collection, query: `trip plan number ${i}`, top_k: 10 } });
      expect(reply.status).toBe(200);
      expect(reply.text.length).toBeGreaterThan(10 * CONTENT_CHARS);
      smallest = Math.min(smallest, reply.text.length);
    }
    expect(local.size).toBeGreaterThan(0);
    expect(local.size * smallest).toBeLessThanOrEqual(MAX_BYTES);
    expect(local.bytes).toBeLessThanOrEqual(MAX_BYTES);
  });

  test("an answer larger than the per-entry cap is not cached (in either level)", async () => {
    const body = { collection_id: collection, query: "the whole trip", top_k: 20 };
    const first = await t.call("POST", "/v1/search", { token, body });
    expect(first.status).toBe(200);
    expect(first.text.length * 2).toBeGreaterThan(MAX_ENTRY_BYTES);
    const second = await t.call("POST", "/v1/search", { token, body });
    expect(second.body.cached).toBe(false);
    // a small answer still is
    const small = { collection_id: collection, query: "the whole trip", top_k: 1 };
    await t.call("POST", "/v1/search", { token, body: small });
    expect((await t.call("POST", "/v1/search", { token, body: small })).body.cached).toBe(true);
  });
});

describe("expired answers are swept", () => {
  let now = 1_000_000;
  let t: TestApp;
  let local: MemorySearchCache;

  beforeAll(async () => {
    t = await createTestApp({
      cacheTtlSeconds: 60,
      wrap: {
        cache: (inner) => {
          const bounded = boundedLike(inner, { now: () => now, sweepIntervalMs: 10 });
          local = bounded.local;
          return bounded.cache;
        },
      },
    });
  });
  afterAll(() => t.close());

  test("an expired entry no longer counts, without being read again", async () => {
    const token = await t.token("sweeper", "enterprise");
    const collection = await fill(t, token);
    const reply = await t.call("POST", "/v1/search", { token, body: { collection_id: collection, query: "budgets", top_k: 5 } });
    expect(reply.status).toBe(200);
    expect(local.size).toBe(2); // the answer, and its roll-forward state (a semantic search)
    now += 61_000;
    // the sweep runs on its own timer; waiting for it is bounded, and never asserted on
    for (let i = 0; i < 200 && local.size > 0; i++) await Bun.sleep(10);
    expect(local.size).toBe(0);
    expect(local.bytes).toBe(0);
  });
});
