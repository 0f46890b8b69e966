import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SearchCache } from "../../src/ports/search-cache";
import { createTestApp, newCollection, type TestApp } from "../support/app";

/** A cache whose every call fails, as a Redis that went away does. */
const deadCache: SearchCache = {
  get: () => Promise.reject(new Error("Connection is closed.")),
  set: () => Promise.reject(new Error("Connection is closed.")),
  generation: () => Promise.reject(new Error("Connection is closed.")),
  bumpGeneration: () => Promise.reject(new Error("Connection is closed.")),
};

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ cache: deadCache });
});
afterAll(() => t.close());

test("with the cache down, writes are acknowledged and searches answer (uncached) and see the writes", async () => {
  const token = await t.token("alice");
  const cid = await newCollection(t, token);
  const before = await t.call("POST", "/v1/search", { token, body: { query: "new heating system", collection_id: cid } });
  expect(before.status).toBe(200); // the cache's failure is counted, the search answered
  const added = await t.call("POST", `/v1/collections/${cid}/memories`, {
    token,
    body: { memories: [{ content: "The boiler was replaced in 2024." }] },
  });
  expect(added.status).toBe(201);
  for (let i = 0; i < 3; i++) {
    const reply = await t.call("POST", "/v1/search", { token, body: { query: "new heating system", collection_id: cid } });
    expect(reply.status).toBe(200);
    expect(reply.body.cached).toBe(false);
    expect(reply.body.results[0].content).toBe("The boiler was replaced in 2024.");
  }
  expect(t.app.pipeline.stats.cacheErrors).toBeGreaterThan(0);
  expect((await t.call("DELETE", `/v1/collections/${cid}`, { token })).status).toBe(204);
});

test("a write acknowledged while the cache was down is seen once the cache is back, not its pre-outage answers", async () => {
  // a real in-process cache that can be switched off, keeping its entries (as Redis keeps its data across a restart)
  const { MemorySearchCache } = await import("../../src/stores/in-process/cache");
  const inner = new MemorySearchCache({ maxEntries: 1000 });
  let down = false;
  const guard = <T>(call: () => Promise<T>) => (down ? Promise.reject(new Error("Connection is closed.")) : call());
  const flaky: SearchCache = {
    get: (key) => guard(() => inner.get(key)),
    set: (key, value, ttl) => guard(() => inner.set(key, value, ttl)),
    generation: (cid) => guard(() => inner.generation(cid)),
    bumpGeneration: (cid) => guard(() => inner.bumpGeneration(cid)),
  };
  const app = await createTestApp({ cache: flaky });
  try {
    const token = await app.token("bob");
    const cid = await newCollection(app, token);
    const add = (content: string) => app.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: [{ content }] } });
    const search = () => app.call("POST", "/v1/search", { token, body: { query: "where is the boat", collection_id: cid } });
    expect((await add("The boat is moored at pier 9.")).status).toBe(201);
    await search();
    expect((await search()).body.cached).toBe(true);

    down = true;
    expect((await add("The canoe is kept in the boathouse.")).status).toBe(201);
    down = false;

    // the cache is back with its old entries: the answer must include the write all the same
    const after = await search();
    expect(after.status).toBe(200);
    expect(after.body.results.map((r: { content: string }) => r.content)).toContain("The canoe is kept in the boathouse.");
    // and once the pending bump has landed, the cache serves (fresh) answers again
    const deadline = Date.now() + 10_000;
    let cached = false;
    while (!cached && Date.now() < deadline) {
      await Bun.sleep(200);
      const reply = await search();
      cached = reply.body.cached === true;
      expect(reply.body.results.map((r: { content: string }) => r.content)).toContain("The canoe is kept in the boathouse.");
    }
    expect(cached).toBe(true);
  } finally {
    await app.close();
  }
});
