import type { Memory, Scalar } from "../../domain/memory";
import type { SearchFilter } from "../../domain/search";

/**
 * A SearchFilter evaluated on a hydrated memory, with the stores' semantics: values compare with
 * their JSON type, ranges compare numbers numerically and strings by code point, dates exclusive.
 * The stores apply filters in SQL (graph search too, through `MemoryStore.matchingIds`); this is
 * the reference they are checked against (test/abuse/graph-filter-pushdown.test.ts).
 */
export function matchesFilter(memory: Memory, filter: SearchFilter): boolean {
  if (filter.createdAfter !== undefined && !(Date.parse(memory.created_at) > Date.parse(filter.createdAfter))) return false;
  if (filter.createdBefore !== undefined && !(Date.parse(memory.created_at) < Date.parse(filter.createdBefore))) return false;
  for (const c of filter.metadata) {
    const value = memory.metadata[c.key];
    if (value === undefined || value === null || typeof value === "object") return false;
    const v = value as Scalar;
    switch (c.op) {
      case "eq":
        if (v !== c.value) return false;
        break;
      case "in":
        if (!c.values.some((x) => x === v)) return false;
        break;
      case "range": {
        const inRange = (bound: Scalar | undefined, ok: (a: Scalar, b: Scalar) => boolean) =>
          bound === undefined || (typeof bound === typeof v && typeof v !== "boolean" && ok(v, bound));
        if (!inRange(c.gte, (a, b) => a >= b) || !inRange(c.lte, (a, b) => a <= b)) return false;
        break;
      }
    }
  }
  return true;
}
