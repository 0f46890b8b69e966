/**
 * The filter language's one table of cases: every backend runs it (the embedded and PostgreSQL
 * memory stores' keyword search and list, the embedded and Milvus vector indexes, and the JS
 * matcher in test/search/filter-match.test.ts), so the semantics stated in src/domain/search.ts
 * hold identically everywhere. A case gives a filter as a client writes it (parsed by the API's
 * parser, v1 and v2 forms alike) or, for keys the API refuses but a store must still survive, as
 * a parsed tree.
 */
import { expect, test } from "bun:test";
import type { Metadata } from "../../src/domain/memory.ts";
import type { SearchFilter } from "../../src/domain/search.ts";
import { parseFilters } from "../../src/search/filters/parse.ts";
import { newCollection, settle, sleep, type StoreFixture, write } from "./contract-setup.ts";
import { similar } from "./vectors.ts";

/** A search under test: the ids it returns for `filter` (k large enough for all matches). */
export type FilteredSearch = (
  fixture: StoreFixture,
  collectionId: string,
  filter: SearchFilter,
) => Promise<string[]>;

export const WEIRD_KEY = `we"ird$.key\\`;
export const INJECTION_KEY = `'); DROP TABLE memories; --`;

/** U+FF5E sorts before U+1F600 by code point, after it by UTF-16 unit (a naive JS `<`). */
const BMP_HIGH = "\uff5e";
const ASTRAL = "😀";

/** Ten memories f0..f9; every content holds the word "memo". */
export function filterData(): { id: string; content: string; metadata: Metadata }[] {
  return Array.from({ length: 10 }, (_, i) => {
    const metadata: Metadata = {
      n: i,
      s: "abcdefghij"[i],
      flag: i % 2 === 0,
      tag: i < 5 ? "x" : "y",
      nested: { n: i },
    };
    if (i === 0) metadata.mixed = true;
    if (i === 1) metadata.mixed = 1;
    if (i === 2) metadata.mixed = "1";
    if (i === 3) metadata[WEIRD_KEY] = "q";
    if (i === 4) metadata["a.b"] = 1;
    if (i === 5) metadata.ratio = 2.5;
    if (i === 6) metadata.ratio = 10;
    // tags: arrays, a string, a null; missing from f7-f9
    const tags: unknown[] = [["red", "blue"], ["blue"], [1, "red"], [true], [], "red carpet", null];
    if (i < tags.length) metadata.tags = tags[i];
    if (i === 7) metadata.nil = null;
    const text: Record<number, string> = { 0: "Hello World", 1: "hello", 2: "say hello!", 8: `${ASTRAL} emoji` };
    if (text[i] !== undefined) metadata.text = text[i];
    if (i === 8) metadata.word = BMP_HIGH;
    if (i === 9) metadata.word = ASTRAL;
    return { id: `f${i}`, content: `memo number ${i}`, metadata };
  });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `f${from + i}`);
const all = range(0, 9);
const except = (...ids: string[]) => all.filter((id) => !ids.includes(id));

export interface FilterCase {
  name: string;
  /** As a client writes it (parsed), or a parsed tree. */
  body?: unknown;
  filter?: SearchFilter;
  expected: string[];
}

export const FILTER_CASES: FilterCase[] = [
  // equality, typed
  { name: "eq string", body: { metadata: { tag: "x" } }, expected: range(0, 4) },
  { name: "$eq string", body: { metadata: { tag: { $eq: "y" } } }, expected: range(5, 9) },
  { name: "eq number", body: { metadata: { n: 3 } }, expected: ["f3"] },
  { name: "eq float", body: { metadata: { ratio: 2.5 } }, expected: ["f5"] },
  { name: "eq true", body: { metadata: { flag: true } }, expected: ["f0", "f2", "f4", "f6", "f8"] },
  { name: "eq false", body: { metadata: { flag: false } }, expected: ["f1", "f3", "f5", "f7", "f9"] },
  { name: "eq true is not 1", body: { metadata: { mixed: true } }, expected: ["f0"] },
  { name: "eq 1 is not true nor '1'", body: { metadata: { mixed: 1 } }, expected: ["f1"] },
  { name: "eq '1' is not 1", body: { metadata: { mixed: "1" } }, expected: ["f2"] },
  { name: "eq on a missing key", body: { metadata: { absent: "x" } }, expected: [] },
  { name: "eq never matches an array holding the value", body: { metadata: { tags: "blue" } }, expected: [] },
  { name: "a dotted key is a label, not a path", body: { metadata: { "nested.n": 1 } }, expected: [] },
  { name: "key with a dot is one label", body: { metadata: { "a.b": 1 } }, expected: ["f4"] },
  // ne / nin: exact negations (missing keys, nulls and other types pass)
  { name: "$ne string", body: { metadata: { tag: { $ne: "x" } } }, expected: range(5, 9) },
  { name: "$ne on a key most memories lack", body: { metadata: { ratio: { $ne: 2.5 } } }, expected: except("f5") },
  { name: "$ne another type is not equal", body: { metadata: { mixed: { $ne: 1 } } }, expected: except("f1") },
  { name: "$ne on a null value", body: { metadata: { nil: { $ne: "x" } } }, expected: all },
  // in / nin
  { name: "in strings", body: { metadata: { s: { $in: ["c", "z", "h"] } } }, expected: ["f2", "f7"] },
  { name: "in numbers", body: { metadata: { n: { $in: [1, 8, 100] } } }, expected: ["f1", "f8"] },
  { name: "in mixed types", body: { metadata: { mixed: { $in: [true, "1"] } } }, expected: ["f0", "f2"] },
  { name: "in nothing (a parsed tree)", filter: { kind: "metadata", key: "tag", op: "in", values: [] }, expected: [] },
  { name: "$nin strings", body: { metadata: { s: { $nin: ["a", "b"] } } }, expected: range(2, 9) },
  { name: "$nin typed, missing keys pass", body: { metadata: { mixed: { $nin: [1, "1"] } } }, expected: except("f1", "f2") },
  { name: "$nin on a null value", body: { metadata: { nil: { $nin: [0, false, ""] } } }, expected: all },
  // ranges (v1 and v2)
  { name: "v1 range numbers inclusive", body: { metadata: { n: { $gte: 3, $lte: 6 } } }, expected: range(3, 6) },
  { name: "v1 range gte only", body: { metadata: { n: { $gte: 7 } } }, expected: range(7, 9) },
  { name: "v1 range lte only", body: { metadata: { n: { $lte: 0 } } }, expected: ["f0"] },
  { name: "range numbers compare numerically", body: { metadata: { ratio: { $gte: 3 } } }, expected: ["f6"] },
  { name: "v1 range strings", body: { metadata: { s: { $gte: "c", $lte: "e" } } }, expected: range(2, 4) },
  { name: "$gt and $lt are strict", body: { metadata: { n: { $gt: 3, $lt: 6 } } }, expected: ["f4", "f5"] },
  { name: "$gt mixed with $lte", body: { metadata: { n: { $gt: 7, $lte: 100 } } }, expected: ["f8", "f9"] },
  { name: "$gt on strings", body: { metadata: { s: { $gt: "h" } } }, expected: ["f8", "f9"] },
  { name: "$lt on a float bound", body: { metadata: { ratio: { $lt: 2.6 } } }, expected: ["f5"] },
  { name: "a number bound never matches a boolean or string", body: { metadata: { mixed: { $gt: 0 } } }, expected: ["f1"] },
  { name: "a string bound never matches a number", body: { metadata: { mixed: { $gte: "0" } } }, expected: ["f2"] },
  { name: "a bound never matches null", body: { metadata: { nil: { $gt: 0 } } }, expected: [] },
  { name: "a bound never matches an array", body: { metadata: { tags: { $gte: "" } } }, expected: ["f5"] },
  { name: "strings compare by code point ($gt)", body: { metadata: { word: { $gt: BMP_HIGH } } }, expected: ["f9"] },
  { name: "strings compare by code point ($lt)", body: { metadata: { word: { $lt: ASTRAL } } }, expected: ["f8"] },
  // exists
  { name: "$exists true: any value, null included", body: { metadata: { tags: { $exists: true } } }, expected: range(0, 6) },
  { name: "$exists false", body: { metadata: { tags: { $exists: false } } }, expected: range(7, 9) },
  { name: "$exists on a null-only key", body: { metadata: { nil: { $exists: true } } }, expected: ["f7"] },
  // contains
  { name: "$contains: element of an array or substring of a string", body: { metadata: { tags: { $contains: "red" } } }, expected: ["f0", "f2", "f5"] },
  { name: "$contains a number element, typed", body: { metadata: { tags: { $contains: 1 } } }, expected: ["f2"] },
  { name: "$contains a boolean element", body: { metadata: { tags: { $contains: true } } }, expected: ["f3"] },
  { name: "$contains is case-sensitive", body: { metadata: { text: { $contains: "hello" } } }, expected: ["f1", "f2"] },
  { name: "$contains finds a substring anywhere", body: { metadata: { text: { $contains: "World" } } }, expected: ["f0"] },
  { name: "$contains an astral character", body: { metadata: { text: { $contains: ASTRAL } } }, expected: ["f8"] },
  { name: "$contains '' is in every string", body: { metadata: { text: { $contains: "" } } }, expected: ["f0", "f1", "f2", "f8"] },
  { name: "$contains on a number value is false", body: { metadata: { n: { $contains: 1 } } }, expected: [] },
  { name: "$contains wildcards are literal", body: { metadata: { text: { $contains: "%" } } }, expected: [] },
  // logic
  { name: "conditions of one object combine with AND", body: { metadata: { tag: "x", flag: true } }, expected: ["f0", "f2", "f4"] },
  { name: "$and", body: { $and: [{ metadata: { tag: "x" } }, { metadata: { flag: true } }] }, expected: ["f0", "f2", "f4"] },
  { name: "$or", body: { $or: [{ metadata: { tag: "y" } }, { metadata: { n: 0 } }] }, expected: ["f0", ...range(5, 9)] },
  { name: "$not", body: { $not: { metadata: { tag: "x" } } }, expected: range(5, 9) },
  { name: "$not $not", body: { $not: { $not: { metadata: { tag: "y" } } } }, expected: range(5, 9) },
  { name: "$not of a condition on a missing key", body: { $not: { metadata: { ratio: { $gt: 5 } } } }, expected: except("f6") },
  { name: "$not $exists", body: { $not: { metadata: { tags: { $exists: true } } } }, expected: range(7, 9) },
  { name: "$not $contains", body: { $not: { metadata: { tags: { $contains: "red" } } } }, expected: except("f0", "f2", "f5") },
  {
    name: "nested $or / $and / $not",
    body: { $or: [{ $and: [{ metadata: { tag: "x" } }, { $not: { metadata: { flag: true } } }] }, { metadata: { n: { $gte: 8 } } }] },
    expected: ["f1", "f3", "f8", "f9"],
  },
  {
    name: "$or of a condition every backend states and one some must check",
    body: { $or: [{ metadata: { tags: { $contains: "blue" } } }, { metadata: { n: 9 } }] },
    expected: ["f0", "f1", "f9"],
  },
  { name: "metadata beside $or", body: { metadata: { tag: "x" }, $or: [{ metadata: { n: 1 } }, { metadata: { tags: { $contains: true } } }] }, expected: ["f1", "f3"] },
  {
    name: "$not of an $or under an $and",
    body: { $and: [{ metadata: { flag: true } }, { $not: { $or: [{ metadata: { n: 0 } }, { metadata: { tags: { $exists: true } } }] } }] },
    expected: ["f8"],
  },
  // keys and values that must not change the query
  { name: "key with quotes, $, dot and backslash (a parsed tree)", filter: { kind: "metadata", key: WEIRD_KEY, op: "eq", value: "q" }, expected: ["f3"] },
  { name: "$ne on a key with quotes (a parsed tree)", filter: { kind: "metadata", key: WEIRD_KEY, op: "ne", value: "q" }, expected: except("f3") },
  { name: "$exists on a key with quotes (a parsed tree)", filter: { kind: "metadata", key: WEIRD_KEY, op: "exists", value: true }, expected: ["f3"] },
  { name: "key that tries SQL injection (a parsed tree)", filter: { kind: "metadata", key: INJECTION_KEY, op: "eq", value: "x" }, expected: [] },
  { name: "injection in a value", body: { metadata: { tag: `x' OR '1'='1` } }, expected: [] },
  { name: "injection in a $contains value", body: { metadata: { text: { $contains: `') OR 1=1 --` } } }, expected: [] },
];

export function caseFilter(c: FilterCase): SearchFilter {
  return c.filter ?? parseFilters(c.body);
}

/**
 * Declares, inside the caller's describe block, one test per filter case plus the created_at /
 * updated_at test, each run through `search`.
 */
export function declareFilterTests(
  fixture: () => StoreFixture,
  search: FilteredSearch,
  label: string,
): void {
  for (const c of FILTER_CASES) {
    test(`${label} filter: ${c.name}`, async () => {
      const f = fixture();
      const { id } = await newCollection(f);
      await f.memories.upsert(
        id,
        filterData().map((d, i) => write(d.id, d.content, similar(f.dimensions, 0.9 - i * 0.05, i + 1), d.metadata)),
      );
      await settle(f);
      const found = await search(f, id, caseFilter(c));
      expect([...found].sort()).toEqual([...c.expected].sort());
      // The store still works after hostile keys and values.
      expect(await f.memories.get(id, "f0")).not.toBeNull();
    });
  }

  test(`${label} filter: created_at / updated_at, v1 created_after / created_before`, async () => {
    const f = fixture();
    const { id } = await newCollection(f);
    const batch = async (names: string[], axis: number) => {
      await f.memories.upsert(
        id,
        names.map((n, i) => write(n, `memo ${n}`, similar(f.dimensions, 0.5, axis + i), { name: n })),
      );
      await sleep(15);
    };
    await batch(["early1", "early2"], 1);
    await batch(["middle1", "middle2"], 10);
    await batch(["late1"], 20);
    await f.memories.patch(id, "early2", { metadata: { name: "early2", touched: true } });
    await settle(f);
    const early = (await f.memories.get(id, "early1"))!;
    const late = (await f.memories.get(id, "late1"))!;
    const middle = (await f.memories.get(id, "middle1"))!;
    const touched = (await f.memories.get(id, "early2"))!;
    expect(touched.updated_at > late.created_at).toBe(true);
    const find = async (body: unknown) => [...(await search(f, id, parseFilters(body)))].sort();

    expect(await find({ created_after: early.created_at, created_before: late.created_at })).toEqual(["middle1", "middle2"]);
    expect(await find({ created_after: middle.created_at })).toEqual(["late1"]);
    expect(await find({ created_before: middle.created_at })).toEqual(["early1", "early2"]);
    expect(await find({ created_at: middle.created_at })).toEqual(["middle1", "middle2"]);
    expect(await find({ created_at: { $ne: middle.created_at } })).toEqual(["early1", "early2", "late1"]);
    expect(await find({ created_at: { $gte: middle.created_at, $lt: late.created_at } })).toEqual(["middle1", "middle2"]);
    expect(await find({ created_at: { $lte: early.created_at } })).toEqual(["early1", "early2"]);
    expect(await find({ updated_at: { $gt: late.created_at } })).toEqual(["early2"]);
    expect(await find({ updated_at: { $eq: touched.updated_at } })).toEqual(["early2"]);
    expect(await find({ $not: { updated_at: { $gt: late.created_at } } })).toEqual(["early1", "late1", "middle1", "middle2"]);
    expect(await find({ $or: [{ updated_at: { $gt: late.created_at } }, { metadata: { name: "late1" } }] })).toEqual(["early2", "late1"]);
    // an instant written with an offset is the same instant
    const shifted = new Date(Date.parse(middle.created_at) + 2 * 3600_000).toISOString().replace("Z", "+02:00");
    expect(await find({ created_at: shifted })).toEqual(["middle1", "middle2"]);
  });
}
