/**
 * Attack: the search popularity counters (shared by every tenant; Redis in production) took
 * any search before the collection's ownership was checked and whatever its size (issue 18,
 * item 3). Anyone could push multi-megabyte descriptors into them, and put their own searches
 * at the top of another tenant's collection, whose pre-warming then replayed them, got 404 and
 * forgot the whole collection's counters.
 *
 * The counters are flushed to the store at most once a second per worker; each test waits for
 * an asking of the owner's to reach the store, which proves everything counted before it has.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { searchDescriptor } from "../../src/search/cache-key";

const POPULARITY = { hotTtlSeconds: 900, hotThreshold: 2, prewarmTop: 5 };

describe("popularity counters", () => {
  let t: TestApp;
  let owner: string;
  let attacker: string;

  beforeAll(async () => {
    t = await createTestApp({ popularity: POPULARITY });
    owner = await t.token(`owner-${crypto.randomUUID()}`);
    attacker = await t.token(`attacker-${crypto.randomUUID()}`);
  });
  afterAll(async () => {
    await t.app.pipeline.prewarmer.idle();
    await t.close();
  });

  async function ownedCollection(): Promise<string> {
    const collection = await newCollection(t, owner);
    const reply = await t.call("POST", `/v1/collections/${collection}/memories`, {
      token: owner,
      body: { memories: [{ content: "The boiler is serviced every October by Ana." }, { content: "The bins go out on Thursday." }] },
    });
    expect(reply.status).toBe(201);
    await t.backend.settle();
    return collection;
  }

  const search = (token: string, collection: string, query: string, extra: Record<string, unknown> = {}) =>
    t.call("POST", "/v1/search", { token, body: { query, collection_id: collection, top_k: 2, ...extra } });

  /** What the shared counters hold for the collection, once an asking of `marker` reached them. */
  async function countedAfter(collection: string, marker: string): Promise<string[]> {
    await Bun.sleep(1100); // past the flush interval: the next asking flushes everything pending
    expect((await search(owner, collection, marker)).status).toBe(200);
    for (let i = 0; i < 300; i++) {
      const top = (await t.backend.popularity.top(collection, 1000)).map((p) => p.descriptor);
      if (top.some((d) => d.includes(JSON.stringify(marker)))) return top;
      await Bun.sleep(10);
    }
    throw new Error("the owner's asking never reached the counters");
  }

  test("a search of someone else's collection (404) is not counted in it", async () => {
    const collection = await ownedCollection();
    for (let i = 0; i < 5; i++) expect((await search(attacker, collection, "when is the boiler serviced")).status).toBe(404);
    const counted = await countedAfter(collection, "marker: bins");
    const attackerId = JSON.parse(atob(attacker.split(".")[1]!)).sub as string;
    expect(counted.filter((d) => d.includes(JSON.stringify(attackerId)))).toEqual([]);
  }, 20_000);

  test("a search with a huge descriptor is answered but not counted", async () => {
    const collection = await ownedCollection();
    const huge = "x".repeat(256 * 1024);
    const reply = await search(owner, collection, "when is the boiler serviced", { filters: { metadata: { note: huge } } });
    expect(reply.status).toBe(200);
    const counted = await countedAfter(collection, "marker: boiler");
    expect(counted.every((d) => d.length <= 8192)).toBe(true);
  }, 20_000);

  test("pre-warming does not forget a collection because of another user's counted search", async () => {
    const collection = await ownedCollection();
    for (let i = 0; i < 3; i++) expect((await search(owner, collection, "who services the boiler")).status).toBe(200);
    // a descriptor of a user who does not own the collection, counted more than the owner's own
    // searches (before the fix the attacker's 404 searches did this; here, counters written by
    // an older version or another writer of the store)
    const foreign = searchDescriptor({
      user: "someone-else",
      query: "who services the boiler",
      collection_id: collection,
      search_type: "semantic",
      filters: null,
      top_k: 2,
      rerank: false,
    });
    await t.backend.popularity.record(collection, new Map([[foreign, 50]]));
    const before = await countedAfter(collection, "marker: October");
    expect(before[0]).toBe(foreign);

    const write = await t.call("POST", `/v1/collections/${collection}/memories`, {
      token: owner,
      body: { memories: [{ content: "The boiler service moved to November." }] },
    });
    expect(write.status).toBe(201);
    await t.backend.settle();
    await Bun.sleep(50); // the write's generation bump starts the pass
    await t.app.pipeline.prewarmer.idle();
    const after = (await t.backend.popularity.top(collection, 1000)).map((p) => p.descriptor);
    expect(after.some((d) => d.includes('"who services the boiler"') && !d.includes("someone-else"))).toBe(true);
    expect((await search(owner, collection, "who services the boiler")).body.cached).toBe(true);
  }, 20_000);

  test("a deleted collection's counters are still forgotten", async () => {
    const collection = await ownedCollection();
    for (let i = 0; i < 3; i++) await search(owner, collection, "when do the bins go out");
    await countedAfter(collection, "marker: Thursday");
    expect((await t.call("DELETE", `/v1/collections/${collection}`, { token: owner })).status).toBe(204);
    await Bun.sleep(50);
    await t.app.pipeline.prewarmer.idle();
    expect(await t.backend.popularity.top(collection, 5)).toEqual([]);
  }, 20_000);
});
