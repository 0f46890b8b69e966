import type { Scalar } from "../../domain/memory.ts";
import { type FilterCondition, type FilterNode, isMatchAll, type SearchFilter } from "../../domain/search.ts";

/**
 * Compiles a filter into a parameterised WHERE fragment, with the semantics of
 * src/domain/search.ts (the embedded adapter's and the JS matcher's): JSON types are strict
 * (true ≠ 1 ≠ "1"), a key is one top-level label (a dot is part of it), numbers compare
 * numerically and strings by code point, `ne` / `nin` / `not` are exact complements. Every
 * predicate is two-valued (never NULL), so a NOT never drops a row for a missing key. Keys and
 * values are always bind parameters, never SQL text.
 *
 * Equality and `in` use jsonb containment (`metadata @> {"key": value}`), which the
 * `jsonb_path_ops` GIN index serves, and which is type-strict: `{"k": 1} @> {"k": true}` is
 * false, `{"k": [1]} @> {"k": 1}` is false (containment of a scalar in an array holds only at the
 * top level), and `1` equals `1.0` as numbers do.
 */
export class SqlParams {
  readonly values: unknown[];

  constructor(initial: unknown[] = []) {
    this.values = [...initial];
  }

  /** Adds a bind value and returns its placeholder (`$n`). */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** `{key: value}` as JSON text: the containment probe for one key. */
function probe(key: string, value: Scalar): string {
  return JSON.stringify({ [key]: value });
}

/** `jsonb_typeof` of a scalar. */
function jsonType(value: Scalar): "string" | "number" | "boolean" {
  return typeof value as "string" | "number" | "boolean";
}

const COMPARATORS = { gt: ">", gte: ">=", lt: "<", lte: "<=", eq: "=", ne: "<>" } as const;

/** `metadata` holds `key` equal to one of `values` (typed). */
function oneOf(key: string, values: Scalar[], column: string, p: SqlParams): string {
  const probes = [...new Set(values.map((v) => probe(key, v)))];
  if (probes.length === 1) return `(${column} @> ${p.add(probes[0])}::jsonb)`;
  return `(${column} @> ANY (${p.add(probes)}::jsonb[]))`;
}

function metadataCondition(c: Extract<FilterCondition, { kind: "metadata" }>, column: string, p: SqlParams): string {
  switch (c.op) {
    case "eq":
      return oneOf(c.key, [c.value], column, p);
    case "ne":
      return `NOT ${oneOf(c.key, [c.value], column, p)}`;
    case "in":
      return oneOf(c.key, c.values, column, p);
    case "nin":
      return `NOT ${oneOf(c.key, c.values, column, p)}`;
    case "exists":
      return `${c.value ? "" : "NOT "}jsonb_exists(${column}, ${p.add(c.key)})`;
    case "contains": {
      const value = `(${column} -> ${p.add(c.key)})`;
      // an array holding the element (jsonb array containment: typed, 1 = 1.0, not nested arrays)
      const inArray = `(jsonb_typeof(${value}) = 'array' AND ${value} @> ${p.add(JSON.stringify([c.value]))}::jsonb)`;
      if (typeof c.value !== "string") return `coalesce(${inArray}, false)`;
      // or a string holding the substring (strpos: case-sensitive, "" is in every string)
      const inString = `(jsonb_typeof(${value}) = 'string' AND strpos(${value} #>> '{}', ${p.add(c.value)}::text) > 0)`;
      return `coalesce(${inString} OR ${inArray}, false)`;
    }
    default: {
      const value = `(${column} -> ${p.add(c.key)})`;
      const type = `jsonb_typeof(${value}) = '${jsonType(c.value)}'`;
      const operator = COMPARATORS[c.op];
      if (typeof c.value === "string") {
        // By code point, whatever the database's collation.
        return `coalesce(${type} AND (${value} #>> '{}') COLLATE "C" ${operator} ${p.add(c.value)}::text COLLATE "C", false)`;
      }
      // jsonb compares numbers numerically; the type check keeps jsonb's cross-type ordering out of it.
      return `coalesce(${type} AND ${value} ${operator} ${p.add(JSON.stringify(c.value))}::jsonb, false)`;
    }
  }
}

/** ISO-8601 in the stored form, so comparisons are on exactly what clients were shown. */
export function normaliseTimestamp(value: string, field: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new RangeError(`${field} is not an ISO-8601 timestamp: ${value}`);
  return new Date(time).toISOString();
}

function node(n: FilterNode, p: SqlParams, alias: string): string {
  switch (n.kind) {
    case "and":
    case "or":
      if (n.nodes.length === 0) return n.kind === "and" ? "true" : "false";
      return `(${n.nodes.map((child) => node(child, p, alias)).join(n.kind === "and" ? " AND " : " OR ")})`;
    case "not":
      return `NOT (${node(n.node, p, alias)})`;
    case "created_at":
    case "updated_at":
      return `(${alias}.${n.kind} ${COMPARATORS[n.op]} ${p.add(normaliseTimestamp(n.value, n.kind))}::timestamptz)`;
    case "metadata":
      return metadataCondition(n, `${alias}.metadata`, p);
  }
}

/**
 * The WHERE fragment of `filter` over the memories table aliased `alias` ("true" when it
 * constrains nothing); its values are appended to `p`.
 */
export function compileFilter(filter: SearchFilter | undefined, p: SqlParams, alias = "m"): string {
  if (filter === undefined || isMatchAll(filter)) return "true";
  return node(filter, p, alias);
}
