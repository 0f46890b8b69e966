import type { Scalar } from "../../domain/memory.ts";
import type { MetadataCondition, SearchFilter } from "../../domain/search.ts";

/**
 * Compiles a SearchFilter into a parameterised WHERE fragment, with the embedded adapter's
 * semantics: JSON types are strict (true ≠ 1 ≠ "1"), a key is one top-level label (a dot is
 * part of it), numbers compare numerically and strings by code point, `in` matches any of its
 * values, created_after / created_before are exclusive. Keys and values are always bind
 * parameters, never SQL text.
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

function isComparable(value: Scalar): boolean {
  return typeof value !== "number" || Number.isFinite(value);
}

/** `jsonb_typeof` of a scalar. */
function jsonType(value: Scalar): "string" | "number" | "boolean" {
  return typeof value as "string" | "number" | "boolean";
}

function condition(c: MetadataCondition, column: string, p: SqlParams): string {
  switch (c.op) {
    case "eq":
      if (!isComparable(c.value)) return "false";
      return `${column} @> ${p.add(probe(c.key, c.value))}::jsonb`;
    case "in": {
      const probes = [...new Set(c.values.filter(isComparable).map((v) => probe(c.key, v)))];
      if (probes.length === 0) return "false";
      if (probes.length === 1) return `${column} @> ${p.add(probes[0])}::jsonb`;
      return `${column} @> ANY (${p.add(probes)}::jsonb[])`;
    }
    case "range": {
      const bounds = (
        [
          [c.gte, ">="],
          [c.lte, "<="],
        ] as const
      ).filter((b): b is [Scalar, ">=" | "<="] => b[0] !== undefined);
      if (bounds.length === 0) return "true";
      if (bounds.some(([b]) => !isComparable(b))) return "false";
      const value = `(${column} -> ${p.add(c.key)})`;
      // Each bound restricts the type, so bounds of different types match nothing (as embedded).
      const parts = bounds.map(([bound, operator]) => {
        const type = `jsonb_typeof(${value}) = '${jsonType(bound)}'`;
        if (typeof bound === "string") {
          // By code point, whatever the database's collation.
          return `(${type} AND (${value} #>> '{}') COLLATE "C" ${operator} ${p.add(bound)}::text COLLATE "C")`;
        }
        // jsonb compares numbers numerically and false < true; the type check keeps
        // jsonb's cross-type ordering out of it.
        return `(${type} AND ${value} ${operator} ${p.add(JSON.stringify(bound))}::jsonb)`;
      });
      return parts.length === 1 ? parts[0]! : `(${parts.join(" AND ")})`;
    }
    default: {
      const unknown: never = c;
      throw new TypeError(`unknown metadata operator in ${JSON.stringify(unknown)}`);
    }
  }
}

/** ISO-8601 in the stored form, so comparisons are on exactly what clients were shown. */
export function normaliseTimestamp(value: string, field: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new RangeError(`${field} is not an ISO-8601 timestamp: ${value}`);
  return new Date(time).toISOString();
}

/**
 * The WHERE fragment of `filter` over the memories table aliased `alias` ("true" when it
 * constrains nothing); its values are appended to `p`.
 */
export function compileFilter(filter: SearchFilter | undefined, p: SqlParams, alias = "m"): string {
  if (filter === undefined) return "true";
  const parts: string[] = [];
  for (const c of filter.metadata ?? []) parts.push(condition(c, `${alias}.metadata`, p));
  if (filter.createdAfter !== undefined) {
    parts.push(`${alias}.created_at > ${p.add(normaliseTimestamp(filter.createdAfter, "createdAfter"))}::timestamptz`);
  }
  if (filter.createdBefore !== undefined) {
    parts.push(`${alias}.created_at < ${p.add(normaliseTimestamp(filter.createdBefore, "createdBefore"))}::timestamptz`);
  }
  return parts.length === 0 ? "true" : parts.join(" AND ");
}
