import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";

/**
 * Read-your-writes under concurrency, for every search type: writers that search for what they
 * just wrote (added, then changed, then deleted) while other clients search the same collection
 * (so cached answers are made and invalidated all along). On the production backend the writes
 * are acknowledged before Milvus can search them (the fresh tail answers for it).
 */

let t: TestApp;
let token: string;
let cid: string;
beforeAll(async () => {
  t = await createTestApp();
  token = await t.token("ryw-writer");
  cid = await newCollection(t, token, "read-your-writes");
});
afterAll(() => t.close());

const WRITERS = 6;
const ROUNDS = 3;
const LETTERS = "bcdfghjklmnpqrstvwxz";
const VOWELS = "aeiou";

/** A made-up word nobody else writes (so keyword search can only find this memory). */
function word(seed: number, salt: number): string {
  let s = (seed * 7919 + salt * 104729) >>> 0;
  let out = "";
  for (let i = 0; i < 4; i++) {
    out += LETTERS[s % LETTERS.length]! + VOWELS[(s >>> 5) % VOWELS.length]!;
    s = Math.imul(s ^ (s >>> 13), 0x5bd1e995) >>> 0;
  }
  return out;
}

const capital = (w: string) => w[0]!.toUpperCase() + w.slice(1);

interface Miss {
  what: string;
  got: unknown;
}

async function searchIds(body: Record<string, unknown>): Promise<string[]> {
  const reply = await t.call("POST", "/v1/search", { token, body: { collection_id: cid, top_k: 5, ...body } });
  if (reply.status !== 200) throw new Error(`search ${reply.status}: ${reply.text}`);
  return reply.body.results.map((r: { id: string }) => r.id);
}

async function writer(n: number, misses: Miss[], checks: { count: number }): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    const id = `w${n}-r${round}`;
    const seed = n * 100 + round;
    const name = capital(word(seed, 1));
    const thing = word(seed, 2);
    const content = `${name} hid the ${thing} under the old ${word(seed, 3)} bridge.`;
    const expectFirst = async (what: string, body: Record<string, unknown>) => {
      const found = await searchIds(body);
      checks.count++;
      if (found[0] !== id) misses.push({ what: `${id} ${what}`, got: found });
    };
    const expectAbsent = async (what: string, body: Record<string, unknown>) => {
      const found = await searchIds(body);
      checks.count++;
      if (found.includes(id)) misses.push({ what: `${id} ${what}`, got: found });
    };

    const added = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: [{ id, content }] } });
    expect(added.status).toBe(201);
    await expectFirst("semantic after add", { query: content, search_type: "semantic" });
    await expectFirst("keyword after add", { query: thing, search_type: "keyword" });
    await expectFirst("hybrid after add", { query: content, search_type: "hybrid" });
    await expectFirst("graph after add", { query: `Where did ${name} hide it?`, search_type: "graph" });

    const newThing = word(seed, 4);
    const changed = `${name} moved the ${newThing} into the ${word(seed, 5)} tower.`;
    const patched = await t.call("PATCH", `/v1/collections/${cid}/memories/${id}`, { token, body: { content: changed } });
    expect(patched.status).toBe(200);
    await expectFirst("semantic after patch", { query: changed, search_type: "semantic" });
    await expectFirst("keyword after patch", { query: newThing, search_type: "keyword" });
    await expectAbsent("keyword for the old text after patch", { query: thing, search_type: "keyword" });
    await expectFirst("hybrid after patch", { query: changed, search_type: "hybrid" });

    const deleted = await t.call("DELETE", `/v1/collections/${cid}/memories/${id}`, { token });
    expect(deleted.status).toBe(204);
    await expectAbsent("semantic after delete", { query: changed, search_type: "semantic" });
    await expectAbsent("keyword after delete", { query: newThing, search_type: "keyword" });
    await expectAbsent("hybrid after delete", { query: changed, search_type: "hybrid" });
    await expectAbsent("graph after delete", { query: `Where did ${name} hide it?`, search_type: "graph" });
  }
}

describe("read-your-writes while others write and search", () => {
  test("every search type sees each writer's own add, patch and delete at once", async () => {
    // A few memories that stay, so searches have something to rank the writers' memories against.
    const base = Array.from({ length: 20 }, (_, i) => ({ id: `base${i}`, content: `A note about the ${word(9000 + i, 1)} garden, number ${i}.` }));
    expect((await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: base } })).status).toBe(201);

    const misses: Miss[] = [];
    const checks = { count: 0 };
    let writing = true;
    let background = 0;
    const searcher = async (n: number) => {
      const types = ["semantic", "keyword", "hybrid", "graph"];
      for (let i = 0; writing; i++) {
        await searchIds({ query: `notes about the garden ${n % 3}`, search_type: types[(n + i) % types.length] });
        background++;
        // a cached answer resolves without I/O: yield, or these loops would starve the writers' embeddings
        await Bun.sleep(1);
      }
    };
    const searchers = Array.from({ length: 3 }, (_, n) => searcher(n));
    try {
      await Promise.all(Array.from({ length: WRITERS }, (_, n) => writer(n, misses, checks)));
    } finally {
      writing = false;
      await Promise.allSettled(searchers);
    }

    expect(misses).toEqual([]);
    expect(checks.count).toBe(WRITERS * ROUNDS * 12);
    expect(background).toBeGreaterThan(0);
  }, 300_000);
});
