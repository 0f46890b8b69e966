/**
 * Attack: a graph search with a filter loaded every candidate memory (up to 10,000, each up to
 * 64 K characters of content and 16 KB of metadata) to test the filter in JavaScript (issue 18,
 * item 4). The filter now runs inside the store (`MemoryStore.matchingIds`, SQL in SQLite and
 * PostgreSQL): only the passing ids come back, and only the answer's memories are loaded.
 *
 * Equal results: the same searches with `matchingIds` answered the old way (load, then the
 * JavaScript matcher) give the same answers. Ids only: no `hydrate` call loads more memories
 * than the answer holds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { matchesFilter } from "../../src/search/filters/match";
import type { MemoryStore } from "../../src/ports/memory-store";

const MEMORIES = 30;
const TOP_K = 4;

describe("graph search with a filter", () => {
  let t: TestApp;
  let token: string;
  let collection: string;
  let legacy = false;
  const hydrated: number[] = [];
  const matched: number[] = [];

  beforeAll(async () => {
    t = await createTestApp({
      cacheTtlSeconds: 0, // every search computed: the two ways are compared on the same data
      wrap: {
        memories: (inner) =>
          new Proxy(inner, {
            get(target, prop) {
              if (prop === "hydrate") {
                return (collectionId: string, ids: string[]) => {
                  hydrated.push(ids.length);
                  return target.hydrate(collectionId, ids);
                };
              }
              if (prop === "matchingIds") {
                return async (collectionId: string, ids: string[], filter: Parameters<MemoryStore["matchingIds"]>[2]) => {
                  matched.push(ids.length);
                  if (!legacy) return target.matchingIds(collectionId, ids, filter);
                  // the code before the fix: every candidate loaded, the filter tested in JavaScript
                  const loaded = await target.hydrate(collectionId, ids);
                  return loaded.filter((m) => matchesFilter(m, filter)).map((m) => m.id);
                };
              }
              const value = Reflect.get(target, prop, target);
              return typeof value === "function" ? value.bind(target) : value;
            },
          }),
      },
    });
    token = await t.token("graph-filterer", "enterprise");
    collection = await newCollection(t, token);
    const memories = Array.from({ length: MEMORIES }, (_, i) => ({
      content: `Note ${i}: Ana met Bruno in Lisbon to talk about the ${i % 3 === 0 ? "budget" : "roadmap"}.`,
      metadata: { team: i % 2 === 0 ? "red" : "blue", n: i, ...(i % 5 === 0 ? { flagged: true } : {}) },
    }));
    expect((await t.call("POST", `/v1/collections/${collection}/memories`, { token, body: { memories } })).status).toBe(201);
    await t.backend.settle();
  });
  afterAll(() => t.close());

  const FILTERS: Record<string, unknown> = {
    "eq": { metadata: { team: "red" } },
    "range": { metadata: { n: { $gte: 5, $lte: 20 } } },
    "in + eq": { metadata: { team: { $in: ["blue"] }, flagged: true } },
    "created_after (all)": { created_after: "2000-01-01T00:00:00Z" },
    "nothing matches": { metadata: { team: "green" } },
  };

  const search = (filters: unknown) =>
    t.call("POST", "/v1/search", {
      token,
      body: { collection_id: collection, query: "Who did Ana meet in Lisbon?", search_type: "graph", top_k: TOP_K, filters },
    });

  for (const [name, filters] of Object.entries(FILTERS)) {
    test(`${name}: the same answer as filtering loaded memories`, async () => {
      legacy = false;
      const pushed = await search(filters);
      legacy = true;
      const loaded = await search(filters);
      legacy = false;
      expect(pushed.status).toBe(200);
      expect(loaded.status).toBe(200);
      const view = (r: { results: { id: string; score: number; path?: string[] }[] }) => r.results.map(({ id, score, path }) => ({ id, score, path }));
      expect(view(pushed.body)).toEqual(view(loaded.body));
      if (name !== "nothing matches") expect(pushed.body.results.length).toBeGreaterThan(0);
    });
  }

  test("the store is asked for ids: no more memories are loaded than the answer holds", async () => {
    hydrated.length = 0;
    matched.length = 0;
    const reply = await search({ metadata: { team: "red" } });
    expect(reply.status).toBe(200);
    expect(reply.body.results.length).toBe(TOP_K);
    expect(reply.body.results.every((r: { metadata: { team: string } }) => r.metadata.team === "red")).toBe(true);
    expect(matched).toEqual([MEMORIES]); // every candidate's id went to the store, once
    expect(Math.max(...hydrated)).toBeLessThanOrEqual(TOP_K);
  });
});
