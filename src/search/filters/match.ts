import type { Memory, Scalar } from "../../domain/memory";
import type { FilterCondition, FilterNode, SearchFilter } from "../../domain/search";

/**
 * A filter evaluated on a hydrated memory: the reference semantics of the filter language
 * (stated in src/domain/search.ts), which every store's compiled form must match (the shared
 * cases in test/ports/filter-cases.ts run on all of them and on this). The stores apply filters
 * in SQL (graph search too, through `MemoryStore.matchingIds`); the Milvus index uses this for
 * the part of a filter its expressions cannot state.
 */
export function matchesFilter(memory: Pick<Memory, "metadata" | "created_at" | "updated_at">, filter: SearchFilter): boolean {
  return evaluate(memory, filter);
}

function evaluate(memory: Pick<Memory, "metadata" | "created_at" | "updated_at">, node: FilterNode): boolean {
  switch (node.kind) {
    case "and":
      return node.nodes.every((n) => evaluate(memory, n));
    case "or":
      return node.nodes.some((n) => evaluate(memory, n));
    case "not":
      return !evaluate(memory, node.node);
    case "created_at":
    case "updated_at":
      return compareTimestamp(memory[node.kind], node);
    case "metadata":
      return metadataCondition(memory.metadata, node);
  }
}

/** JSON equality of a stored value and a filter value: same type, equal (numbers numerically). */
export function sameScalar(stored: unknown, value: Scalar): boolean {
  return typeof stored === typeof value && stored === value;
}

/** -1, 0, 1 by Unicode code point (JS `<` compares UTF-16 units, which orders astral characters wrongly). */
export function compareCodePoints(a: string, b: string): number {
  const x = a[Symbol.iterator]();
  const y = b[Symbol.iterator]();
  for (;;) {
    const p = x.next();
    const q = y.next();
    if (p.done || q.done) return p.done && q.done ? 0 : p.done ? -1 : 1;
    const d = p.value.codePointAt(0)! - q.value.codePointAt(0)!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
}

function holds(op: "gt" | "gte" | "lt" | "lte" | "eq" | "ne", order: number): boolean {
  switch (op) {
    case "gt":
      return order > 0;
    case "gte":
      return order >= 0;
    case "lt":
      return order < 0;
    case "lte":
      return order <= 0;
    case "eq":
      return order === 0;
    case "ne":
      return order !== 0;
  }
}

function compareTimestamp(stored: string, c: Extract<FilterCondition, { kind: "created_at" | "updated_at" }>): boolean {
  const a = Date.parse(stored);
  const b = Date.parse(c.value);
  return holds(c.op, a < b ? -1 : a > b ? 1 : 0);
}

function metadataCondition(metadata: Memory["metadata"], c: Extract<FilterCondition, { kind: "metadata" }>): boolean {
  const present = Object.hasOwn(metadata, c.key);
  const stored = present ? metadata[c.key] : undefined;
  switch (c.op) {
    case "eq":
      return present && sameScalar(stored, c.value);
    case "ne":
      return !(present && sameScalar(stored, c.value));
    case "in":
      return present && c.values.some((v) => sameScalar(stored, v));
    case "nin":
      return !(present && c.values.some((v) => sameScalar(stored, v)));
    case "exists":
      return present === c.value;
    case "contains":
      if (typeof stored === "string") return typeof c.value === "string" && stored.includes(c.value);
      return Array.isArray(stored) && stored.some((element) => sameScalar(element, c.value));
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      if (typeof stored !== typeof c.value) return false;
      const order =
        typeof stored === "string"
          ? compareCodePoints(stored, c.value as string)
          : (stored as number) < (c.value as number)
            ? -1
            : (stored as number) > (c.value as number)
              ? 1
              : 0;
      return holds(c.op, order);
    }
  }
}
