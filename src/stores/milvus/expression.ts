import type { Scalar } from "../../domain/memory.ts";
import { type FilterCondition, type FilterNode, isMatchAll, type SearchFilter } from "../../domain/search.ts";
import { integerLiteral, numberLiteral, stringLiteral } from "./literals.ts";
import { kindOf, projectedKey, type ScalarKind } from "./projection.ts";
import { FIELD } from "./schema.ts";

/**
 * Compiles a collection id and a filter into one Milvus boolean expression, with the semantics
 * of src/domain/search.ts:
 *
 * - `collection_id == "…"` always comes first (the partition key: Milvus searches only the
 *   partition that holds the collection, then filters within it).
 * - Metadata conditions on scalars read the typed projection (projection.ts): a number condition
 *   reads `metadata["n<hex key>"]`, which only numbers are stored under, so `1` never matches
 *   `true` or `"1"`. Numbers compare numerically (float literals), strings by code point (Milvus
 *   compares UTF-8 bytes, which orders as code points), a missing key fails every comparison.
 *   Milvus' `not` is the exact complement (measured on 2.3.5: `not (m["k"] == 1.0)` holds for a
 *   row without the key), so `ne`, `nin` and `not` mean what they mean everywhere else.
 * - created_at compares `created_at` (Int64 ms).
 *
 * What a Milvus 2.3 expression over the projection cannot state exactly: `exists` (the
 * projection keeps scalars only, not keys holding null, arrays or objects), `contains` (arrays
 * are not projected, and `like` takes only prefix patterns, with no escape for `%` or `_`), and
 * updated_at (not stored). Such a condition is relaxed so that the expression is implied by the
 * filter (true where it stands un-negated, false under a `not`): the index then over-fetches
 * with the expression and checks the exact filter on the source of truth (vector-index.ts).
 *
 * Returns null when the filter can match nothing, so the caller answers without asking Milvus.
 * Every key and value goes through `stringLiteral` / `numberLiteral`; nothing the caller gives
 * is spliced raw.
 */
export interface CompiledExpression {
  expr: string;
  /** False when the expression is only implied by the filter: matching rows must be checked. */
  exact: boolean;
}

/** A constant, or an expression. */
type Compiled = true | false | string;

export function compileExpression(collectionId: string, filter: SearchFilter | undefined): CompiledExpression | null {
  if (!collectionId.isWellFormed()) return null;
  const collection = `${FIELD.collectionId} == ${stringLiteral(collectionId)}`;
  if (filter === undefined || isMatchAll(filter)) return { expr: collection, exact: true };
  const state = { exact: true };
  const compiled = compile(filter, true, state);
  if (compiled === false) return null;
  return { expr: compiled === true ? collection : `${collection} && (${compiled})`, exact: state.exact };
}

/** Milliseconds since the epoch of an ISO-8601 timestamp (the resolution every store keeps). */
export function timestampMs(value: string, field: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`${field} is not an ISO-8601 timestamp: ${value}`);
  return ms;
}

/**
 * `node` where it stands un-negated (`positive`) or under an odd number of `not`s; a condition
 * that cannot be stated becomes the constant that makes the whole filter's expression weaker.
 */
function compile(node: FilterNode, positive: boolean, state: { exact: boolean }): Compiled {
  switch (node.kind) {
    case "and":
    case "or": {
      const neutral = node.kind === "and";
      const parts: string[] = [];
      for (const child of node.nodes) {
        const c = compile(child, positive, state);
        if (c === !neutral) return !neutral; // false in an and, true in an or
        if (c !== neutral) parts.push(c as string);
      }
      if (parts.length === 0) return neutral;
      return parts.length === 1 ? parts[0]! : `(${parts.join(neutral ? " && " : " || ")})`;
    }
    case "not": {
      const inner = compile(node.node, !positive, state);
      return typeof inner === "boolean" ? !inner : `not (${inner})`;
    }
    default: {
      const c = condition(node);
      if (c !== undefined) return c;
      state.exact = false;
      return positive;
    }
  }
}

/** `metadata["<kind><hex>"]`, or null for a key no stored value can have. */
function access(kind: ScalarKind, key: string): string | null {
  const projected = projectedKey(kind, key);
  return projected === null ? null : `${FIELD.metadata}[${stringLiteral(projected)}]`;
}

/** A literal of `value`, or null where no stored value can equal it. */
function literal(value: Scalar): string | null {
  if (typeof value === "string") return value.isWellFormed() ? stringLiteral(value) : null;
  if (typeof value === "number") return Number.isFinite(value) ? numberLiteral(value) : null;
  return value ? "true" : "false";
}

const COMPARATORS = { gt: ">", gte: ">=", lt: "<", lte: "<=", eq: "==", ne: "!=" } as const;

/** One condition as an expression or a constant; undefined when Milvus cannot state it. */
function condition(c: FilterCondition): Compiled | undefined {
  switch (c.kind) {
    case "created_at":
      if (c.op === "ne") return `not (${FIELD.createdAt} == ${integerLiteral(timestampMs(c.value, c.kind))})`;
      return `${FIELD.createdAt} ${COMPARATORS[c.op]} ${integerLiteral(timestampMs(c.value, c.kind))}`;
    case "updated_at":
      return undefined;
    case "metadata":
      switch (c.op) {
        case "eq":
          return oneOf(c.key, [c.value]);
        case "ne": {
          const eq = oneOf(c.key, [c.value]);
          return typeof eq === "boolean" ? !eq : `not (${eq})`;
        }
        case "in":
          return oneOf(c.key, c.values);
        case "nin": {
          const inside = oneOf(c.key, c.values);
          return typeof inside === "boolean" ? !inside : `not (${inside})`;
        }
        case "exists":
        case "contains":
          return undefined;
        default: {
          const field = access(kindOf(c.value), c.key);
          const value = literal(c.value);
          if (field === null || value === null) return false;
          return `${field} ${COMPARATORS[c.op]} ${value}`;
        }
      }
  }
}

/** The key holds one of `values` (typed): an expression, or false when no stored value can. */
function oneOf(key: string, values: Scalar[]): Compiled {
  const byKind = new Map<ScalarKind, Set<string>>();
  for (const value of values) {
    const text = literal(value);
    if (text === null) continue;
    const kind = kindOf(value);
    let set = byKind.get(kind);
    if (set === undefined) byKind.set(kind, (set = new Set()));
    set.add(text);
  }
  const parts: string[] = [];
  for (const [kind, literals] of byKind) {
    const field = access(kind, key);
    if (field === null) continue;
    parts.push(literals.size === 1 ? `${field} == ${[...literals][0]}` : `${field} in [${[...literals].join(", ")}]`);
  }
  if (parts.length === 0) return false;
  return parts.length === 1 ? parts[0]! : `(${parts.join(" || ")})`;
}
