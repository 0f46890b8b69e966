/**
 * The filter language and min_score through the public API: search (every search type that
 * filters in its store) and list take the same filters, invalid ones are 422s naming the path,
 * and min_score says when nothing passed it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { MAX_FILTER_DEPTH } from "../../src/search/filters/schema";

let t: TestApp;
let token: string;
let cid: string;

const MEMORIES = [
  { id: "trip-rome", content: "Booked the train to Rome for the spring trip", metadata: { kind: "travel", year: 2025, tags: ["italy", "train"], pinned: true } },
  { id: "trip-oslo", content: "Flight to Oslo booked for the winter trip", metadata: { kind: "travel", year: 2026, tags: ["norway"], note: "Window seat" } },
  { id: "food-thai", content: "I love Thai food, especially green curry", metadata: { kind: "food", year: 2024, tags: ["thai"] } },
  { id: "food-pizza", content: "Pizza on Fridays is a family tradition", metadata: { kind: "food", year: 2026, archived: null } },
  { id: "work-review", content: "Quarterly review with the manager next trip week", metadata: { kind: "work", year: "2026" } },
];

beforeAll(async () => {
  t = await createTestApp();
  token = await t.token("filter-user");
  cid = await newCollection(t, token, "filters");
  const reply = await t.call("POST", `/v1/collections/${cid}/memories`, { token, body: { memories: MEMORIES } });
  expect(reply.status).toBe(201);
});
afterAll(() => t.close());

const search = (body: Record<string, unknown>) => t.call("POST", "/v1/search", { token, body: { collection_id: cid, query: "trip", top_k: 10, ...body } });
const list = (filter: unknown, extra = "") =>
  t.call("GET", `/v1/collections/${cid}/memories?filter=${encodeURIComponent(typeof filter === "string" ? filter : JSON.stringify(filter))}${extra}`, { token });
const sorted = (items: { id: string }[]) => items.map((r) => r.id).sort();

const CASES: [string, unknown, string[]][] = [
  ["v1 equality and range", { metadata: { kind: "travel", year: { $gte: 2025, $lte: 2026 } } }, ["trip-oslo", "trip-rome"]],
  ["$ne keeps memories without the key", { metadata: { kind: { $ne: "travel" } } }, ["food-pizza", "food-thai", "work-review"]],
  ["$gt on numbers ignores a string year", { metadata: { year: { $gt: 2024 } } }, ["food-pizza", "trip-oslo", "trip-rome"]],
  ["$nin", { metadata: { kind: { $nin: ["food", "work"] } } }, ["trip-oslo", "trip-rome"]],
  ["$contains an array element", { metadata: { tags: { $contains: "train" } } }, ["trip-rome"]],
  ["$contains a substring, case-sensitive", { metadata: { note: { $contains: "Window" } } }, ["trip-oslo"]],
  ["$exists true counts a null", { metadata: { archived: { $exists: true } } }, ["food-pizza"]],
  ["$or / $not", { $or: [{ metadata: { pinned: true } }, { $not: { metadata: { kind: { $in: ["travel", "food"] } } } }] }, ["trip-rome", "work-review"]],
  ["created_at range", { created_at: { $gt: "2000-01-01", $lt: "2999-01-01" }, metadata: { kind: "work" } }, ["work-review"]],
];

describe("filters in search", () => {
  for (const searchType of ["semantic", "keyword", "hybrid"] as const) {
    for (const [name, filters, expected] of CASES) {
      // keyword search finds only memories holding the query word (hybrid has the semantic side too)
      const want = searchType !== "keyword" ? expected : expected.filter((id) => MEMORIES.find((m) => m.id === id)!.content.includes("trip"));
      test(`${searchType}: ${name}`, async () => {
        const reply = await search({ search_type: searchType, filters });
        expect(reply.status).toBe(200);
        expect(sorted(reply.body.results)).toEqual(want);
      });
    }
  }

  test("an unknown operator, too deep a nesting, too many conditions: 422 naming the path", async () => {
    const deep = (n: number): Record<string, unknown> => (n === 0 ? { metadata: { a: 1 } } : { $not: deep(n - 1) });
    const cases: [unknown, string][] = [
      [{ metadata: { kind: { $like: "tr%" } } }, "filters.metadata.kind.$like"],
      [{ $or: [{ metadata: { kind: "x" } }, { metadata: { year: { $gt: true } } }] }, "filters.$or[1].metadata.year.$gt"],
      [deep(MAX_FILTER_DEPTH + 1), `filters${".$not".repeat(MAX_FILTER_DEPTH + 1)}`],
      [{ $or: Array.from({ length: 65 }, (_, i) => ({ metadata: { [`k${i}`]: i } })) }, "filters.$or"],
      [{ $and: Array.from({ length: 40 }, (_, i) => ({ metadata: { [`k${i}`]: i, [`j${i}`]: i } })) }, "filters"],
    ];
    for (const [filters, field] of cases) {
      const reply = await search({ filters });
      expect(reply.status).toBe(422);
      expect(reply.headers.get("content-type")).toContain("application/problem+json");
      expect(reply.body.detail).toStartWith(`${field}:`);
    }
  });
});

describe("filters in list", () => {
  for (const [name, filter, expected] of CASES) {
    test(name, async () => {
      const reply = await list(filter);
      expect(reply.status).toBe(200);
      expect(sorted(reply.body.memories)).toEqual(expected);
    });
  }

  test("the cursor pages through the matches", async () => {
    const seen: string[] = [];
    let cursor = "";
    for (let page = 0; page < 5; page++) {
      const reply = await list({ metadata: { kind: { $ne: "work" } } }, `&limit=1${cursor}`);
      expect(reply.status).toBe(200);
      seen.push(...reply.body.memories.map((m: { id: string }) => m.id));
      if (reply.body.next_cursor === null) break;
      cursor = `&cursor=${reply.body.next_cursor}`;
    }
    expect(seen).toEqual(["trip-rome", "trip-oslo", "food-thai", "food-pizza"]);
  });

  test("malformed JSON and invalid filters are 422s naming query.filter and the path", async () => {
    for (const [filter, field] of [
      ["{not json", "query.filter"],
      ["null", "query.filter"],
      ['"travel"', "query.filter"],
      [{ metadata: { kind: { $in: ["a", {}] } } }, "query.filter.metadata.kind.$in[1]"],
      [{ tags: "x" }, "query.filter.tags"],
    ] as const) {
      const reply = await list(filter);
      expect(reply.status).toBe(422);
      expect(reply.body.detail).toStartWith(`${field}:`);
    }
  });
});

describe("min_score", () => {
  test("keeps the results scoring at least it, and says how many did not", async () => {
    const all = await search({ query: "Thai curry", search_type: "semantic" });
    expect(all.body.below_min_score).toBeUndefined();
    const scores: number[] = all.body.results.map((r: { score: number }) => r.score);
    expect(scores.length).toBe(5);
    const threshold = scores[1]!;
    const some = await search({ query: "Thai curry", search_type: "semantic", min_score: threshold });
    expect(some.status).toBe(200);
    expect(some.body.results.map((r: { score: number }) => r.score)).toEqual(scores.filter((s) => s >= threshold));
    expect(some.body.below_min_score).toBe(scores.filter((s) => s < threshold).length);
    // nothing passed: no results, and the answer says why
    const none = await search({ query: "Thai curry", search_type: "semantic", min_score: 1.5 });
    expect(none.body.results).toEqual([]);
    expect(none.body.below_min_score).toBe(5);
    expect(none.body.cached).toBe(false); // its own cache entry, not the answer without min_score
    const again = await search({ query: "Thai curry", search_type: "semantic", min_score: 1.5 });
    expect(again.body.cached).toBe(true);
    expect(again.body.below_min_score).toBe(5);
  });

  test("applies to every search type's own scale", async () => {
    for (const searchType of ["keyword", "hybrid"] as const) {
      const all = await search({ query: "trip", search_type: searchType });
      const top = all.body.results[0].score as number;
      const best = await search({ query: "trip", search_type: searchType, min_score: top });
      expect(best.body.results.every((r: { score: number }) => r.score >= top)).toBe(true);
      expect(best.body.results.length + best.body.below_min_score).toBe(all.body.results.length);
    }
  });

  test("must be a number", async () => {
    const reply = await search({ min_score: "high" });
    expect(reply.status).toBe(422);
    expect(reply.body.detail).toContain("min_score");
  });
});
