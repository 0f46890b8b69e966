/**
 * The JS matcher (graph search, and the Milvus index's exact check) runs the shared table of
 * filter cases, like every store does (test/ports/filter-cases.ts).
 */
import { describe, expect, test } from "bun:test";
import type { Memory } from "../../src/domain/memory";
import { matchesFilter } from "../../src/search/filters/match";
import { parseFilters } from "../../src/search/filters/parse";
import { caseFilter, FILTER_CASES, filterData } from "../ports/filter-cases";

const memories: Memory[] = filterData().map((d, i) => ({
  ...d,
  collection_id: "c",
  created_at: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
  updated_at: new Date(Date.UTC(2026, 1, 10 - i)).toISOString(),
}));

const matching = (filter: Parameters<typeof matchesFilter>[1]) => memories.filter((m) => matchesFilter(m, filter)).map((m) => m.id).sort();

describe("the JS matcher runs the shared filter cases", () => {
  for (const c of FILTER_CASES) {
    test(c.name, () => {
      expect(matching(caseFilter(c))).toEqual([...c.expected].sort());
    });
  }

  test("created_at / updated_at compare as instants, whatever the offset written", () => {
    const find = (body: unknown) => matching(parseFilters(body));
    expect(find({ created_at: "2026-01-03" })).toEqual(["f2"]);
    expect(find({ created_at: "2026-01-03T01:00:00+01:00" })).toEqual(["f2"]);
    expect(find({ created_after: "2026-01-08" })).toEqual(["f8", "f9"]);
    expect(find({ created_before: "2026-01-02" })).toEqual(["f0"]);
    expect(find({ created_at: { $gte: "2026-01-08", $lt: "2026-01-09T00:00:00.001Z" } })).toEqual(["f7", "f8"]);
    expect(find({ updated_at: { $gt: "2026-02-08" } })).toEqual(["f0", "f1"]);
    expect(find({ updated_at: { $ne: "2026-02-10" } })).toEqual(["f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"]);
  });
});
