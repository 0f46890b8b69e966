/**
 * The search cache's roll-forward through the public API, on either backend: after writes, a
 * cached semantic answer is brought up to date from the change log instead of being computed
 * again, and what it answers equals a fresh computation over the same stores (a second app that
 * caches nothing) at every step of random inserts, updates and deletes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import type { SearchCache } from "../../src/ports/search-cache";

const TOPICS = [
  "the garden", "the kitchen", "a train journey", "the office", "a birthday party", "the harbour",
  "a mountain walk", "the library", "a football match", "the dentist",
];
const THINGS = ["keys", "umbrella", "cake", "ticket", "notebook", "bicycle", "letter", "camera", "scarf", "lamp"];
const COLOURS = ["red", "blue"];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const pick = <T>(next: () => number, xs: T[]): T => xs[Math.floor(next() * xs.length)]!;

const sentence = (next: () => number) => `Someone left the ${pick(next, THINGS)} near ${pick(next, TOPICS)} after talking about ${pick(next, TOPICS)}.`;

interface Result {
  id: string;
  score: number;
  content: string;
  metadata: Record<string, unknown>;
}

const NOTHING_CACHED: SearchCache = {
  get: async () => null,
  set: async () => {},
  generation: async () => 0,
  bumpGeneration: async () => 1,
};

let t: TestApp;
let fresh: TestApp;
let token: string;
beforeAll(async () => {
  t = await createTestApp({ rollForward: { margin: 4, maxChanges: 50 } });
  // the same stores, nothing cached: every answer computed from scratch
  fresh = await createTestApp({ backend: t.backend, cache: NOTHING_CACHED, rollForward: null });
  token = await t.token("roll-forward");
});
afterAll(async () => {
  await fresh.close();
  await t.close();
});

async function search(app: TestApp, body: Record<string, unknown>) {
  const reply = await app.call("POST", "/v1/search", { token, body: { top_k: 4, ...body } });
  if (reply.status !== 200) throw new Error(`search ${reply.status}: ${reply.text}`);
  return reply.body as { cached: boolean; results: Result[]; below_min_score?: number };
}

async function write(cid: string, memories: { id: string; content: string; metadata: Record<string, unknown> }[]) {
  const reply = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories } });
  expect(reply.status).toBe(201);
}

function expectSameAnswer(got: { results: Result[]; below_min_score?: number }, want: { results: Result[]; below_min_score?: number }, what: string) {
  expect({ what, ids: got.results.map((r) => r.id) }).toEqual({ what, ids: want.results.map((r) => r.id) });
  got.results.forEach((r, i) => {
    expect(r.score).toBeCloseTo(want.results[i]!.score, 5);
    expect(r.content).toBe(want.results[i]!.content);
    expect(r.metadata).toEqual(want.results[i]!.metadata);
  });
  expect(got.below_min_score).toBe(want.below_min_score);
}

describe("random inserts, updates and deletes between askings", () => {
  test("every answer equals a fresh computation, and most come from rolling forward", async () => {
    const cid = await newCollection(t, token, "roll-forward-random");
    const next = rng(2026);
    const live = new Set<string>();
    let n = 0;
    const initial = Array.from({ length: 24 }, () => ({ id: `m${n++}`, content: sentence(next), metadata: { colour: pick(next, COLOURS) } }));
    await write(cid, initial);
    for (const m of initial) live.add(m.id);
    const searches: Record<string, unknown>[] = [
      { query: "where are my keys" },
      { query: "something forgotten at the harbour" },
      { query: "a cake at the birthday party", filters: { metadata: { colour: "red" } } },
      { query: "the train ticket", min_score: 0.3 },
    ];
    const before = t.app.pipeline.stats.rolledForward;
    let askings = 0;
    for (let round = 0; round < 12; round++) {
      const ops = 1 + Math.floor(next() * 3);
      for (let o = 0; o < ops; o++) {
        const r = next();
        const ids = [...live];
        if (r < 0.4 || ids.length < 8) {
          const id = `m${n++}`;
          await write(cid, [{ id, content: sentence(next), metadata: { colour: pick(next, COLOURS) } }]);
          live.add(id);
        } else if (r < 0.75) {
          const id = pick(next, ids);
          await write(cid, [{ id, content: sentence(next), metadata: { colour: pick(next, COLOURS) } }]);
        } else {
          const id = pick(next, ids);
          expect((await t.call("DELETE", `/v1/collections/${cid}/memories/${id}`, { token })).status).toBe(204);
          live.delete(id);
        }
      }
      for (const body of searches) {
        const rolled = await search(t, { collection_id: cid, ...body });
        const computed = await search(fresh, { collection_id: cid, ...body });
        expect(computed.cached).toBe(false);
        expectSameAnswer(rolled, computed, `round ${round} ${JSON.stringify(body)}`);
        askings++;
      }
    }
    // the first asking of each search computes; after that, writes in every round
    const rolledForward = t.app.pipeline.stats.rolledForward - before;
    expect(rolledForward).toBeGreaterThan(askings / 2);
  });
});

describe("what makes it compute again", () => {
  let cid: string;
  beforeAll(async () => {
    cid = await newCollection(t, token, "roll-forward-limits");
    await write(
      cid,
      Array.from({ length: 12 }, (_, i) => ({ id: `k${i}`, content: `Note ${i}: the ${THINGS[i % THINGS.length]} is in ${TOPICS[i % TOPICS.length]}.`, metadata: {} })),
    );
  });

  const ask = () => search(t, { collection_id: cid, query: "where is the umbrella" });

  test("a write after the answer: rolled forward, and the new memory is in it", async () => {
    await ask();
    await write(cid, [{ id: "new-umbrella", content: "The umbrella is where is the umbrella: in the hall stand.", metadata: {} }]);
    const stats = { ...t.app.pipeline.stats };
    const answer = await ask();
    expect(answer.cached).toBe(true);
    expect(t.app.pipeline.stats.rolledForward).toBe(stats.rolledForward + 1);
    expect(answer.results[0]!.id).toBe("new-umbrella");
  });

  test("deletions that eat the margin: computed again, correctly", async () => {
    const first = await ask();
    const stats = { ...t.app.pipeline.stats };
    // top_k 4 + margin 4: deleting the best 5 leaves 3 known candidates
    for (const r of first.results) expect((await t.call("DELETE", `/v1/collections/${cid}/memories/${r.id}`, { token })).status).toBe(204);
    const state = await search(fresh, { collection_id: cid, query: "where is the umbrella", top_k: 8 });
    expect((await t.call("DELETE", `/v1/collections/${cid}/memories/${state.results[0]!.id}`, { token })).status).toBe(204);
    const answer = await ask();
    expect(answer.cached).toBe(false);
    expect(t.app.pipeline.stats.rollRecomputed).toBe(stats.rollRecomputed + 1);
    expectSameAnswer(answer, await search(fresh, { collection_id: cid, query: "where is the umbrella" }), "after the margin is spent");
  });

  test("more changes than one roll-forward applies (50): computed again", async () => {
    await ask();
    const stats = { ...t.app.pipeline.stats };
    for (let i = 0; i < 51; i++) await write(cid, [{ id: `bulk${i % 3}`, content: `Filler note ${i} about nothing much.`, metadata: {} }]);
    const answer = await ask();
    expect(answer.cached).toBe(false);
    expect(t.app.pipeline.stats.rollRecomputed).toBe(stats.rollRecomputed + 1);
    expectSameAnswer(answer, await search(fresh, { collection_id: cid, query: "where is the umbrella" }), "after many changes");
  });

  test("a change log pruned past the answer's position: computed again", async () => {
    await ask();
    await write(cid, [{ id: "late-umbrella", content: "A second umbrella hangs by the back door.", metadata: {} }]);
    await t.backend.history.pruneHistory(new Date(Date.now() + 60_000), 10_000);
    const stats = { ...t.app.pipeline.stats };
    const answer = await ask();
    expect(answer.cached).toBe(false);
    expect(t.app.pipeline.stats.rollRecomputed).toBe(stats.rollRecomputed + 1);
    expectSameAnswer(answer, await search(fresh, { collection_id: cid, query: "where is the umbrella" }), "after pruning");
  });

  test("a deleted collection is a 404, whatever is cached", async () => {
    await ask();
    expect((await t.call("DELETE", `/v1/collections/${cid}`, { token })).status).toBe(204);
    const reply = await t.call("POST", "/v1/search", { token, body: { collection_id: cid, query: "where is the umbrella", top_k: 4 } });
    expect(reply.status).toBe(404);
  });
});
