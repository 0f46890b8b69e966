/**
 * The roll-forward of a semantic answer (src/search/roll-forward.ts) against brute force: random
 * collections, random inserts, updates and deletes between askings, with and without a filter.
 * Whenever it rolls forward, its top_k must be exactly the brute-force top_k; when it refuses,
 * the state is computed afresh (as the pipeline does) and the sequence goes on.
 */
import { describe, expect, test } from "bun:test";
import { cosine } from "../../src/domain/dedupe";
import type { Memory } from "../../src/domain/memory";
import type { SearchFilter } from "../../src/domain/search";
import type { ChangedMemories } from "../../src/ports/change-feed";
import { matchesFilter } from "../../src/search/filters/match";
import { freshState, parseRollState, resultOf, rollForward, type RollState } from "../../src/search/roll-forward";

const DIM = 8;
const MODEL = "test-model";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Row {
  memory: Memory;
  embedding: Float32Array;
}

function randomVector(next: () => number): Float32Array {
  const v = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) v[i] = next() * 2 - 1;
  return v;
}

function memoryOf(id: string, colour: string, next: () => number, expiresAt: string | null = null): Row {
  return {
    memory: {
      id,
      collection_id: "c",
      content: `memory ${id}`,
      metadata: { colour },
      created_at: "2026-12-01T00:00:00.000Z",
      updated_at: "2026-12-01T00:00:00.000Z",
      expires_at: expiresAt,
    },
    embedding: randomVector(next),
  };
}

/** What a fresh computation over an exact index returns: every match, best first. */
function bruteForce(rows: Map<string, Row>, vector: Float32Array, filter: SearchFilter, nowMs: number) {
  return [...rows.values()]
    .filter((r) => matchesFilter(r.memory, filter) && (!r.memory.expires_at || Date.parse(r.memory.expires_at) > nowMs))
    .map((r) => resultOf(r.memory, cosine(vector, r.embedding)))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}

function compute(rows: Map<string, Row>, vector: Float32Array, filter: SearchFilter, size: number, seq: number, nowMs: number): RollState {
  const all = bruteForce(rows, vector, filter, nowMs);
  const ranked = all.slice(0, size);
  return freshState({ seq, vector, size, ranked, exhaustive: all.length < size, lowestIndexScore: ranked.at(-1)?.score ?? null });
}

const NO_FILTER: SearchFilter = { kind: "and", nodes: [] };
const RED: SearchFilter = { kind: "metadata", key: "colour", op: "eq", value: "red" };

describe("a rolled-forward answer equals brute force", () => {
  for (const [name, filter] of [
    ["no filter", NO_FILTER],
    ["metadata filter", RED],
  ] as const) {
    test(`${name}: 40 random sequences`, () => {
      let rolled = 0;
      let refused = 0;
      for (let run = 0; run < 40; run++) {
        const next = rng(run * 7 + (filter === RED ? 1000 : 0));
        const rows = new Map<string, Row>();
        const colours = ["red", "blue"];
        let nextId = 0;
        const add = () => {
          const id = `m${nextId++}`;
          rows.set(id, memoryOf(id, colours[Math.floor(next() * 2)]!, next));
          return id;
        };
        const initial = 5 + Math.floor(next() * 30);
        for (let i = 0; i < initial; i++) add();
        let seq = initial;
        const topK = 1 + Math.floor(next() * 5);
        const size = topK + 1 + Math.floor(next() * 4);
        const query = randomVector(next);
        let state = compute(rows, query, filter, size, seq, 0);
        // the state is stored and read back as JSON, as the cache holds it
        state = parseRollState(JSON.stringify(state))!;
        expect(state).not.toBeNull();
        for (let round = 0; round < 25; round++) {
          const touched = new Set<string>();
          const ops = 1 + Math.floor(next() * 4);
          for (let o = 0; o < ops; o++) {
            const r = next();
            const ids = [...rows.keys()];
            if (r < 0.35 || ids.length === 0) {
              touched.add(add());
            } else if (r < 0.7) {
              const id = ids[Math.floor(next() * ids.length)]!;
              rows.set(id, memoryOf(id, colours[Math.floor(next() * 2)]!, next));
              touched.add(id);
            } else {
              const id = ids[Math.floor(next() * ids.length)]!;
              rows.delete(id);
              touched.add(id);
            }
            seq++;
          }
          const changes: ChangedMemories = { seq, present: [], gone: [] };
          for (const id of touched) {
            const row = rows.get(id);
            if (row) changes.present.push({ seq, memory: row.memory, embedding: row.embedding, model: MODEL });
            else changes.gone.push({ id, seq });
          }
          const next_ = rollForward(state, changes, filter, topK, 0, MODEL);
          const expected = bruteForce(rows, query, filter, 0).slice(0, topK);
          if (typeof next_ === "string") {
            expect(next_).toBe("margin_spent");
            refused++;
            state = compute(rows, query, filter, size, seq, 0);
            continue;
          }
          rolled++;
          const got = next_.candidates.slice(0, topK);
          expect(got.map((r) => r.id)).toEqual(expected.map((r) => r.id));
          got.forEach((r, i) => expect(r.score).toBeCloseTo(expected[i]!.score, 6));
          expect(next_.seq).toBe(seq);
          state = parseRollState(JSON.stringify(next_))!;
        }
      }
      // both paths were exercised, and rolling forward was the common one
      expect(rolled).toBeGreaterThan(refused);
      expect(refused).toBeGreaterThan(0);
    });
  }
});

describe("when it refuses", () => {
  const next = rng(42);
  const rows = new Map<string, Row>();
  for (let i = 0; i < 10; i++) rows.set(`m${i}`, memoryOf(`m${i}`, "red", next));

  test("deletions that eat the margin: fewer than top_k candidates are known to be the best", () => {
    const query = randomVector(next);
    const state = compute(rows, query, NO_FILTER, 4, 10, 0);
    const gone = state.candidates.slice(0, 2).map((c) => ({ id: c.id, seq: 11 }));
    expect(rollForward(state, { seq: 12, present: [], gone }, NO_FILTER, 3, 0, MODEL)).toBe("margin_spent");
    const ok = rollForward(state, { seq: 11, present: [], gone: gone.slice(0, 1) }, NO_FILTER, 3, 0, MODEL);
    expect(typeof ok).toBe("object");
  });

  test("an exhaustive state never runs out: fewer matches than top_k is the answer", () => {
    const small = new Map([...rows].slice(0, 2));
    const query = randomVector(next);
    const state = compute(small, query, NO_FILTER, 5, 2, 0);
    expect(state.threshold).toBeNull();
    const rolled = rollForward(state, { seq: 3, present: [], gone: [{ id: "m0", seq: 3 }] }, NO_FILTER, 3, 0, MODEL);
    expect(typeof rolled === "object" && rolled.candidates.map((c) => c.id)).toEqual(["m1"]);
  });

  test("a candidate's expiry voids the state from that instant", () => {
    const expiring = new Map(rows);
    expiring.set("soon", memoryOf("soon", "red", next, "2026-12-06T12:00:00.000Z"));
    const query = expiring.get("soon")!.embedding; // the expiring memory is the best match
    const at = Date.parse("2026-12-06T11:00:00.000Z");
    const state = compute(expiring, query, NO_FILTER, 4, 11, at);
    expect(state.expiresAtMs).toBe(Date.parse("2026-12-06T12:00:00.000Z"));
    expect(typeof rollForward(state, { seq: 11, present: [], gone: [] }, NO_FILTER, 2, at, MODEL)).toBe("object");
    expect(rollForward(state, { seq: 11, present: [], gone: [] }, NO_FILTER, 2, state.expiresAtMs!, MODEL)).toBe("expired");
  });

  test("a changed memory embedded by another model (a re-embedding under way)", () => {
    const query = randomVector(next);
    const state = compute(rows, query, NO_FILTER, 4, 10, 0);
    const row = rows.get("m3")!;
    expect(rollForward(state, { seq: 11, present: [{ ...row, seq: 11, model: "other" }], gone: [] }, NO_FILTER, 2, 0, MODEL)).toBe("other_model");
    const shorter = { ...row, seq: 11, embedding: row.embedding.subarray(0, 4), model: null };
    expect(rollForward(state, { seq: 11, present: [shorter], gone: [] }, NO_FILTER, 2, 0, MODEL)).toBe("other_model");
  });

  test("a changed memory that has expired since it was read does not enter the answer", () => {
    const query = randomVector(next);
    const state = compute(rows, query, NO_FILTER, 4, 10, 0);
    const expired = memoryOf("gone-soon", "red", next, "2026-12-06T10:00:00.000Z");
    const changes = { seq: 11, present: [{ seq: 11, memory: expired.memory, embedding: query, model: MODEL }], gone: [] };
    const before = rollForward(state, changes, NO_FILTER, 2, Date.parse("2026-12-06T09:00:00.000Z"), MODEL);
    expect(typeof before === "object" && before.candidates[0]!.id).toBe("gone-soon"); // the best match while it lives
    const after = rollForward(state, changes, NO_FILTER, 2, Date.parse("2026-12-06T10:00:00.000Z"), MODEL);
    expect(typeof after === "object" && after.candidates.some((c) => c.id === "gone-soon")).toBe(false);
  });

  test("a value that is not a state is ignored", () => {
    expect(parseRollState("{not json")).toBeNull();
    expect(parseRollState(JSON.stringify({ v: 2, seq: 1, vector: "", candidates: [] }))).toBeNull();
  });
});
