import { describe, expect, test } from "bun:test";
import { canonicalJson, searchCacheKey, searchDescriptor } from "../../src/search/cache-key";
import { reciprocalRankFusion } from "../../src/search/fusion";
import { parseFilters } from "../../src/search/filters/parse";
import { SingleFlight } from "../../src/search/single-flight";
import { InvalidInputError } from "../../src/domain/errors";
import { MATCH_ALL } from "../../src/domain/search";
import { MAX_FILTER_DEPTH } from "../../src/search/filters/schema";

describe("cache keys", () => {
  const base = { user: "u", query: "q", collection_id: "c", search_type: "semantic", filters: { metadata: { a: 1, b: 2 } }, top_k: 10, rerank: false };

  test("key order does not matter, every input does", () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 4, e: 5 }] } })).toBe('{"a":{"c":[3,{"e":5,"f":4}],"d":2},"b":1}');
    const same = searchCacheKey({ ...base, filters: { metadata: { b: 2, a: 1 } } }, 0);
    expect(searchCacheKey(base, 0)).toBe(same);
    for (const change of [{ user: "v" }, { query: "Q" }, { search_type: "hybrid" }, { top_k: 11 }, { rerank: true }, { filters: null }]) {
      expect(searchCacheKey({ ...base, ...change }, 0)).not.toBe(same);
    }
    expect(searchCacheKey(base, 1)).not.toBe(same);
  });

  test("the descriptor is the canonical JSON of its input, whatever the strings and filters", () => {
    const inputs = [
      base,
      { ...base, filters: null },
      { ...base, filters: undefined },
      { ...base, query: 'quotes " and \\ and \u2028 and ünïcode', user: "a\nb", rerank: true, top_k: 1 },
      { ...base, filters: { metadata: { z: [1, "x", { b: null, a: true }] }, created_after: "2026-01-01" } },
    ];
    for (const input of inputs) {
      expect(searchDescriptor(input)).toBe(canonicalJson(input));
      expect(JSON.parse(searchDescriptor(input))).toEqual(JSON.parse(canonicalJson(input)));
    }
  });
});

describe("reciprocal rank fusion", () => {
  test("rewards agreement between rankings", () => {
    const fused = reciprocalRankFusion(
      [
        [{ id: "a", score: 0.9 }, { id: "b", score: 0.8 }, { id: "c", score: 0.7 }],
        [{ id: "c", score: 12 }, { id: "b", score: 11 }],
      ],
      10,
    );
    expect(fused.map((h) => h.id)).toEqual(["c", "b", "a"]);
    expect(fused[0]!.score).toBeCloseTo(1 / 63 + 1 / 61, 10);
    expect(fused[1]!.score).toBeCloseTo(2 / 62, 10);
  });

  test("limit and empty inputs", () => {
    expect(reciprocalRankFusion([[], []], 5)).toEqual([]);
    expect(reciprocalRankFusion([[{ id: "a", score: 1 }, { id: "b", score: 1 }]], 1).map((h) => h.id)).toEqual(["a"]);
  });
});

describe("filters", () => {
  test("parse the operator language", () => {
    expect(parseFilters({
      metadata: { team: "ops", tag: { $in: ["a", 2, true] }, price: { $gte: 1, $lte: 9 }, live: false },
      created_after: "2026-01-01",
    })).toEqual({
      kind: "and",
      nodes: [
        { kind: "metadata", key: "team", op: "eq", value: "ops" },
        { kind: "metadata", key: "tag", op: "in", values: ["a", 2, true] },
        {
          kind: "and",
          nodes: [
            { kind: "metadata", key: "price", op: "gte", value: 1 },
            { kind: "metadata", key: "price", op: "lte", value: 9 },
          ],
        },
        { kind: "metadata", key: "live", op: "eq", value: false },
        { kind: "created_at", op: "gt", value: "2026-01-01T00:00:00.000Z" },
      ],
    });
    expect(parseFilters(undefined)).toEqual(MATCH_ALL);
  });

  test("parse the v2 operators and nesting", () => {
    expect(parseFilters({
      metadata: { a: { $ne: 1 }, b: { $nin: ["x"] }, c: { $gt: 1, $lt: 2 }, d: { $exists: false }, e: { $contains: "z" }, f: { $eq: true } },
      updated_at: { $gte: "2026-01-01T01:00:00+01:00" },
      $or: [{ metadata: { g: "h" } }, { $not: { created_at: "2026-02-01" } }],
    })).toEqual({
      kind: "and",
      nodes: [
        { kind: "metadata", key: "a", op: "ne", value: 1 },
        { kind: "metadata", key: "b", op: "nin", values: ["x"] },
        { kind: "and", nodes: [{ kind: "metadata", key: "c", op: "gt", value: 1 }, { kind: "metadata", key: "c", op: "lt", value: 2 }] },
        { kind: "metadata", key: "d", op: "exists", value: false },
        { kind: "metadata", key: "e", op: "contains", value: "z" },
        { kind: "metadata", key: "f", op: "eq", value: true },
        { kind: "updated_at", op: "gte", value: "2026-01-01T00:00:00.000Z" },
        {
          kind: "or",
          nodes: [
            { kind: "metadata", key: "g", op: "eq", value: "h" },
            { kind: "not", node: { kind: "created_at", op: "eq", value: "2026-02-01T00:00:00.000Z" } },
          ],
        },
      ],
    });
    expect(parseFilters({})).toEqual({ kind: "and", nodes: [] });
  });

  const nest = (depth: number): Record<string, unknown> => (depth === 0 ? { metadata: { a: 1 } } : { $not: nest(depth - 1) });
  test("nesting and size are bounded, with the path of the excess", () => {
    expect(() => parseFilters(nest(MAX_FILTER_DEPTH))).not.toThrow();
    const tooDeep = () => parseFilters(nest(MAX_FILTER_DEPTH + 1));
    expect(tooDeep).toThrow(InvalidInputError);
    expect(tooDeep).toThrow(`at most ${MAX_FILTER_DEPTH} levels`);
    try {
      tooDeep();
    } catch (error) {
      expect((error as InvalidInputError).field).toBe(`filters${".$not".repeat(MAX_FILTER_DEPTH + 1)}`);
    }
    const conditions = (n: number) => ({ $or: Array.from({ length: n }, (_, i) => ({ metadata: { [`k${i}`]: i } })) });
    expect(() => parseFilters(conditions(64))).not.toThrow();
    try {
      parseFilters({ metadata: { x: 1 }, $or: conditions(64).$or });
      throw new Error("expected an InvalidInputError");
    } catch (error) {
      expect((error as InvalidInputError).field).toBe("filters");
      expect((error as InvalidInputError).message).toContain("filters.$or[63].metadata.k63");
    }
  });

  const bad: [unknown, string][] = [
    [{ metadata: { a: { $regex: "x" } } }, "filters.metadata.a.$regex"],
    [{ metadata: { a: { $in: [1], $gte: 1 } } }, "filters.metadata.a"],
    [{ metadata: { a: { $in: [] } } }, "filters.metadata.a.$in"],
    [{ metadata: { a: { $in: [{}] } } }, "filters.metadata.a.$in[0]"],
    [{ metadata: { a: { $gte: true } } }, "filters.metadata.a.$gte"],
    [{ metadata: { a: { $gte: 1, $lte: "z" } } }, "filters.metadata.a"],
    [{ metadata: { a: {} } }, "filters.metadata.a"],
    [{ metadata: { a: null } }, "filters.metadata.a"],
    [{ metadata: { "bad key'": 1 } }, "filters.metadata.bad key'"],
    [{ metadata: [] }, "filters.metadata"],
    [{ created_before: 5 }, "filters.created_before"],
    [{ created_before: "2026-13-45" }, "filters.created_before"],
    [{ since: "2026-01-01" }, "filters.since"],
    // v2
    [{ metadata: { a: { $ne: null } } }, "filters.metadata.a.$ne"],
    [{ metadata: { a: { $nin: [1, [2]] } } }, "filters.metadata.a.$nin[1]"],
    [{ metadata: { a: { $exists: "yes" } } }, "filters.metadata.a.$exists"],
    [{ metadata: { a: { $contains: { x: 1 } } } }, "filters.metadata.a.$contains"],
    [{ metadata: { a: { $gt: 1, $gte: 2 } } }, "filters.metadata.a"],
    [{ metadata: { a: { $gt: 1, $lt: "2" } } }, "filters.metadata.a"],
    [{ metadata: { a: { $eq: 1, $ne: 2 } } }, "filters.metadata.a"],
    [{ created_at: { $in: ["2026-01-01"] } }, "filters.created_at.$in"],
    [{ created_at: { $gt: "soon" } }, "filters.created_at.$gt"],
    [{ updated_at: 5 }, "filters.updated_at"],
    [{ $and: [] }, "filters.$and"],
    [{ $or: {} }, "filters.$or"],
    [{ $or: [{ metadata: { a: 1 } }, { metadata: { b: { $regex: "x" } } }] }, "filters.$or[1].metadata.b.$regex"],
    [{ $and: [{ $not: { metadata: { a: { $in: [1, {}] } } } }] }, "filters.$and[0].$not.metadata.a.$in[1]"],
    [{ $not: [] }, "filters.$not"],
    [{ $nor: [] }, "filters.$nor"],
  ];
  for (const [input, field] of bad) {
    test(`rejects ${JSON.stringify(input)} naming ${field}`, () => {
      try {
        parseFilters(input);
        throw new Error("expected an InvalidInputError");
      } catch (error) {
        // The parser throws a domain error; the API answers it as a 422 naming the field
        // (test/http/errors.test.ts checks that mapping through the API).
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).field).toBe(field);
      }
    });
  }
});

describe("single flight", () => {
  test("shares one computation among concurrent callers, then forgets it", async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    const compute = async () => {
      runs++;
      await Bun.sleep(5);
      return 42;
    };
    const calls = Array.from({ length: 5 }, () => flights.run("k", compute));
    expect(calls.filter((c) => c.shared)).toHaveLength(4);
    expect(await Promise.all(calls.map((c) => c.promise))).toEqual([42, 42, 42, 42, 42]);
    expect(runs).toBe(1);
    expect(flights.size).toBe(0);
    await flights.run("k", compute).promise;
    expect(runs).toBe(2);
  });

  test("a failure reaches every waiter and is not remembered", async () => {
    const flights = new SingleFlight<number>();
    const a = flights.run("k", async () => { throw new Error("boom"); });
    const b = flights.run("k", async () => 1);
    await expect(a.promise).rejects.toThrow("boom");
    await expect(b.promise).rejects.toThrow("boom");
    expect(await flights.run("k", async () => 7).promise).toBe(7);
  });
});
