import { expect, test } from "bun:test";
import type { Metadata } from "../../src/domain/memory.ts";
import type { SearchFilter } from "../../src/domain/search.ts";
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

/** Ten memories f0..f9; every content holds the word "memo". */
function filterData(): { id: string; content: string; metadata: Metadata }[] {
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
    return { id: `f${i}`, content: `memo number ${i}`, metadata };
  });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `f${from + i}`);
const only = (...conditions: SearchFilter["metadata"]): SearchFilter => ({ metadata: conditions });

export const FILTER_CASES: { name: string; filter: SearchFilter; expected: string[] }[] = [
  { name: "eq string", filter: only({ key: "tag", op: "eq", value: "x" }), expected: range(0, 4) },
  { name: "eq number", filter: only({ key: "n", op: "eq", value: 3 }), expected: ["f3"] },
  { name: "eq float", filter: only({ key: "ratio", op: "eq", value: 2.5 }), expected: ["f5"] },
  { name: "eq true", filter: only({ key: "flag", op: "eq", value: true }), expected: ["f0", "f2", "f4", "f6", "f8"] },
  { name: "eq false", filter: only({ key: "flag", op: "eq", value: false }), expected: ["f1", "f3", "f5", "f7", "f9"] },
  { name: "eq true is not 1", filter: only({ key: "mixed", op: "eq", value: true }), expected: ["f0"] },
  { name: "eq 1 is not true nor '1'", filter: only({ key: "mixed", op: "eq", value: 1 }), expected: ["f1"] },
  { name: "eq '1' is not 1", filter: only({ key: "mixed", op: "eq", value: "1" }), expected: ["f2"] },
  { name: "eq on a missing key", filter: only({ key: "absent", op: "eq", value: "x" }), expected: [] },
  { name: "a dotted key is a label, not a path", filter: only({ key: "nested.n", op: "eq", value: 1 }), expected: [] },
  { name: "in strings", filter: only({ key: "s", op: "in", values: ["c", "z", "h"] }), expected: ["f2", "f7"] },
  { name: "in numbers", filter: only({ key: "n", op: "in", values: [1, 8, 100] }), expected: ["f1", "f8"] },
  { name: "in mixed types", filter: only({ key: "mixed", op: "in", values: [true, "1"] }), expected: ["f0", "f2"] },
  { name: "in nothing", filter: only({ key: "tag", op: "in", values: [] }), expected: [] },
  { name: "range numbers inclusive", filter: only({ key: "n", op: "range", gte: 3, lte: 6 }), expected: range(3, 6) },
  { name: "range numbers gte only", filter: only({ key: "n", op: "range", gte: 7 }), expected: range(7, 9) },
  { name: "range numbers lte only", filter: only({ key: "n", op: "range", lte: 0 }), expected: ["f0"] },
  { name: "range numbers compare numerically", filter: only({ key: "ratio", op: "range", gte: 3 }), expected: ["f6"] },
  { name: "range strings", filter: only({ key: "s", op: "range", gte: "c", lte: "e" }), expected: range(2, 4) },
  { name: "key with quotes, $, dot and backslash", filter: only({ key: WEIRD_KEY, op: "eq", value: "q" }), expected: ["f3"] },
  { name: "key with a dot is one label", filter: only({ key: "a.b", op: "eq", value: 1 }), expected: ["f4"] },
  { name: "key that tries SQL injection", filter: only({ key: INJECTION_KEY, op: "eq", value: "x" }), expected: [] },
  {
    name: "injection in a value",
    filter: only({ key: "tag", op: "eq", value: `x' OR '1'='1` }),
    expected: [],
  },
  {
    name: "conditions combine with AND",
    filter: only({ key: "tag", op: "eq", value: "x" }, { key: "flag", op: "eq", value: true }),
    expected: ["f0", "f2", "f4"],
  },
];

/**
 * Declares, inside the caller's describe block, one test per filter case plus the
 * created_after / created_before test, each run through `search`.
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
      const found = await search(f, id, c.filter);
      expect([...found].sort()).toEqual([...c.expected].sort());
      // The store still works after hostile keys and values.
      expect(await f.memories.get(id, "f0")).not.toBeNull();
    });
  }

  test(`${label} filter: created_after / created_before are exclusive`, async () => {
    const f = fixture();
    const { id } = await newCollection(f);
    const batch = async (names: string[], axis: number) => {
      await f.memories.upsert(
        id,
        names.map((n, i) => write(n, `memo ${n}`, similar(f.dimensions, 0.5, axis + i))),
      );
      await sleep(15);
    };
    await batch(["early1", "early2"], 1);
    await batch(["middle1", "middle2"], 10);
    await batch(["late1"], 20);
    await settle(f);
    const early = (await f.memories.get(id, "early1"))!;
    const late = (await f.memories.get(id, "late1"))!;
    const middle = (await f.memories.get(id, "middle1"))!;

    const between = await search(f, id, { metadata: [], createdAfter: early.created_at, createdBefore: late.created_at });
    expect([...between].sort()).toEqual(["middle1", "middle2"]);

    const after = await search(f, id, { metadata: [], createdAfter: middle.created_at });
    expect(after).toEqual(["late1"]);

    const before = await search(f, id, { metadata: [], createdBefore: middle.created_at });
    expect([...before].sort()).toEqual(["early1", "early2"]);
  });
}
