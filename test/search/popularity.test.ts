/**
 * TTL by popularity and pre-warming, through the public API: popular searches are cached longer,
 * and after a write the most popular ones are recomputed in the background so the next asking
 * is a hit that already sees the write.
 */
import { afterEach, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { MemorySearchCache } from "../../src/stores/in-process/cache";
import type { SearchCache } from "../../src/ports/search-cache";

const apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps.splice(0)) {
    await t.app.pipeline.prewarmer.idle();
    await t.close();
  }
});

async function open(options: Parameters<typeof createTestApp>[0]) {
  const t = await createTestApp(options);
  apps.push(t);
  const token = await t.token(`pop-${crypto.randomUUID()}`);
  const cid = await newCollection(t, token);
  const add = (contents: string[]) =>
    t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: contents.map((content) => ({ content })) } });
  const search = (query: string) => t.call("POST", "/v1/search", { token, body: { query, collection_id: cid, top_k: 3 } });
  return { t, token, cid, add, search };
}

test("an answer to a search asked often is cached with the long TTL, a rare one with the short TTL", async () => {
  const ttls: { key: string; ttl: number }[] = [];
  const inner = new MemorySearchCache();
  const recording: SearchCache = {
    get: (k) => inner.get(k),
    // answers only (a semantic search also stores its roll-forward state, under roll:…)
    set: (k, v, ttl) => (k.startsWith("search:") && ttls.push({ key: k, ttl }), inner.set(k, v, ttl)),
    generation: (c) => inner.generation(c),
    bumpGeneration: (c) => inner.bumpGeneration(c),
  };
  const { add, search } = await open({
    cache: recording,
    cacheTtlSeconds: 300,
    popularity: { hotTtlSeconds: 900, hotThreshold: 3, prewarmTop: 0 },
  });
  expect((await add(["The spare key is under the blue flower pot."])).status).toBe(201);

  const askings: number[] = [];
  for (let i = 0; i < 4; i++) {
    expect((await search("where is the spare key")).status).toBe(200);
    askings.push(ttls.length);
    // a write between askings makes each asking a miss, so each one stores an answer
    expect((await add([`filler note number ${i}`])).status).toBe(201);
  }
  await search("what colour is the flower pot");
  const popular = ttls.slice(0, 4).map((r) => r.ttl);
  expect(popular.slice(0, 2)).toEqual([300, 300]); // asked once, twice: not popular yet
  expect(popular.slice(2)).toEqual([900, 900]); // the third and fourth askings: popular
  expect(ttls.at(-1)!.ttl).toBe(300); // asked once
});

test("after a write, the popular searches are recomputed in the background: the next asking is a hit that sees the write", async () => {
  const { t, add, search } = await open({ popularity: { hotTtlSeconds: 900, hotThreshold: 2, prewarmTop: 5 } });
  expect((await add(["The dentist appointment is on Tuesday at 3 pm.", "The car needs new tyres before winter."])).status).toBe(201);
  await t.backend.settle();
  for (let i = 0; i < 3; i++) await search("when is the dentist appointment");
  expect((await search("when is the dentist appointment")).body.cached).toBe(true);

  expect((await add(["The dentist appointment moved to Friday at 10 am."])).status).toBe(201);
  await t.backend.settle();
  await t.app.pipeline.prewarmer.idle();
  expect(t.app.pipeline.prewarmer.stats.warmed).toBeGreaterThan(0);

  const after = await search("when is the dentist appointment");
  expect(after.status).toBe(200);
  expect(after.body.cached).toBe(true); // pre-warmed, not a cold miss
  expect(after.body.results.map((r: { content: string }) => r.content)).toContain("The dentist appointment moved to Friday at 10 am.");
  // pre-warming is not an asking: the client's statistics count only the client's searches
  expect(t.app.pipeline.stats.hits + t.app.pipeline.stats.misses).toBe(5);
});

test("without pre-warming or roll-forward the first asking after a write is a miss", async () => {
  const { t, add, search } = await open({ popularity: { hotTtlSeconds: 900, hotThreshold: 2, prewarmTop: 0 }, rollForward: null });
  expect((await add(["The dentist appointment is on Tuesday at 3 pm."])).status).toBe(201);
  await t.backend.settle();
  for (let i = 0; i < 3; i++) await search("when is the dentist appointment");
  expect((await add(["The dentist appointment moved to Friday at 10 am."])).status).toBe(201);
  await t.backend.settle();
  expect((await search("when is the dentist appointment")).body.cached).toBe(false);
});

test("a deleted collection's popular searches are forgotten, not recomputed", async () => {
  const { t, token, cid, add, search } = await open({ popularity: { hotTtlSeconds: 900, hotThreshold: 2, prewarmTop: 5 } });
  expect((await add(["Milk, eggs and bread are on the shopping list."])).status).toBe(201);
  for (let i = 0; i < 3; i++) await search("what is on the shopping list");
  await t.app.pipeline.prewarmer.idle();
  await Bun.sleep(1100); // the popularity counts reach the shared counters (flushed at most every second)
  await search("what is on the shopping list");
  expect((await t.backend.popularity.top(cid, 5)).length).toBe(1);

  expect((await t.call("DELETE", `/v1/collections/${cid}`, { token })).status).toBe(204);
  await t.app.pipeline.prewarmer.idle();
  expect(await t.backend.popularity.top(cid, 5)).toEqual([]);
});
