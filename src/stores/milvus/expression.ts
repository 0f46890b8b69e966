import type { Scalar } from "../../domain/memory.ts";
import type { MetadataCondition, SearchFilter } from "../../domain/search.ts";
import { integerLiteral, numberLiteral, stringLiteral } from "./literals.ts";
import { kindOf, projectedKey, type ScalarKind } from "./projection.ts";
import { FIELD } from "./schema.ts";

/**
 * Compiles a collection id and a SearchFilter into one Milvus boolean expression, with the
 * semantics of the embedded adapter (src/stores/embedded/filters.ts):
 *
 * - `collection_id == "…"` always comes first (the partition key: Milvus searches only the
 *   partition that holds the collection, then filters within it).
 * - eq / in / range read the typed projection (projection.ts): a number condition reads
 *   `metadata["n<hex key>"]`, which only numbers are stored under, so `1` never matches `true`
 *   or `"1"`. Numbers compare numerically (float literals), strings by code point (Milvus
 *   compares UTF-8 bytes, which orders as code points), booleans as false < true; ranges are
 *   inclusive; range bounds of different kinds match nothing; a range with no bound matches all.
 * - created_after / created_before are exclusive, on `created_at` (Int64 ms).
 *
 * Returns null when the filter can match nothing (`in []`, mixed-kind bounds, a NaN or lone
 * surrogate): the caller answers without asking Milvus. Every key and value goes through
 * `stringLiteral` / `numberLiteral`; nothing the caller gives is spliced raw.
 */
export function compileExpression(collectionId: string, filter: SearchFilter | undefined): string | null {
  if (!collectionId.isWellFormed()) return null;
  const parts = [`${FIELD.collectionId} == ${stringLiteral(collectionId)}`];
  for (const condition of filter?.metadata ?? []) {
    const part = conditionExpression(condition);
    if (part === null) return null;
    if (part !== true) parts.push(part);
  }
  if (filter?.createdAfter !== undefined) {
    parts.push(`${FIELD.createdAt} > ${integerLiteral(timestampMs(filter.createdAfter, "createdAfter"))}`);
  }
  if (filter?.createdBefore !== undefined) {
    parts.push(`${FIELD.createdAt} < ${integerLiteral(timestampMs(filter.createdBefore, "createdBefore"))}`);
  }
  return parts.join(" && ");
}

/** Milliseconds since the epoch of an ISO-8601 timestamp (the resolution every store keeps). */
export function timestampMs(value: string, field: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`${field} is not an ISO-8601 timestamp: ${value}`);
  return ms;
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

/** One condition: an expression, `true` (no constraint) or null (matches nothing). */
function conditionExpression(condition: MetadataCondition): string | true | null {
  switch (condition.op) {
    case "eq": {
      const field = access(kindOf(condition.value), condition.key);
      const value = literal(condition.value);
      return field === null || value === null ? null : `${field} == ${value}`;
    }
    case "in":
      return inExpression(condition.key, condition.values);
    case "range":
      return rangeExpression(condition.key, condition.gte, condition.lte);
    default: {
      const unknown: never = condition;
      throw new TypeError(`unknown metadata operator in ${JSON.stringify(unknown)}`);
    }
  }
}

function inExpression(key: string, values: Scalar[]): string | null {
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
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0]! : `(${parts.join(" || ")})`;
}

function rangeExpression(key: string, gte: Scalar | undefined, lte: Scalar | undefined): string | true | null {
  const bounds = [gte, lte].filter((b): b is Scalar => b !== undefined);
  if (bounds.length === 0) return true;
  const kind = kindOf(bounds[0]!);
  // Bounds of different kinds: each restricts the value's kind, so nothing satisfies both.
  if (bounds.some((b) => kindOf(b) !== kind)) return null;
  const field = access(kind, key);
  if (field === null) return null;

  if (kind === "b") {
    // false < true: the booleans within the bounds.
    const allowed = [false, true].filter(
      (b) => (gte === undefined || b >= (gte as boolean)) && (lte === undefined || b <= (lte as boolean)),
    );
    if (allowed.length === 0) return null;
    return allowed.length === 1 ? `${field} == ${allowed[0]}` : `${field} in [false, true]`;
  }

  let lower = gte;
  let upper = lte;
  if (kind === "n") {
    // JSON numbers are finite: an infinite bound either bounds nothing or excludes everything.
    if (Number.isNaN(lower) || Number.isNaN(upper)) return null;
    if (lower === Infinity || upper === -Infinity) return null;
    if (lower === -Infinity) lower = -Number.MAX_VALUE;
    if (upper === Infinity) upper = Number.MAX_VALUE;
  }
  const parts: string[] = [];
  for (const [bound, operator] of [
    [lower, ">="],
    [upper, "<="],
  ] as const) {
    if (bound === undefined) continue;
    const value = literal(bound);
    if (value === null) return null;
    parts.push(`${field} ${operator} ${value}`);
  }
  return parts.length === 1 ? parts[0]! : `(${parts.join(" && ")})`;
}
