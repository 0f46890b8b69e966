import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SearchCache } from "../../src/stores/ports";
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
