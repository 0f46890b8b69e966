import type { SQLQueryBindings } from "bun:sqlite";
import type { Scalar } from "../../domain/memory.ts";
import { type FilterCondition, type FilterNode, isMatchAll, type SearchFilter } from "../../domain/search.ts";

/** A parameterised SQL boolean expression and its bindings, in order. */
export interface SqlFragment {
  sql: string;
  params: SQLQueryBindings[];
}

/** True when the filter constrains nothing (the vector index can then use its KNN). */
export function isEmptyFilter(filter: SearchFilter | undefined): boolean {
  return isMatchAll(filter);
}

/**
 * How one value is read: the SQL expressions of its JSON type name ('text', 'integer', 'real',
 * 'true', 'false', 'null', 'array', 'object'; NULL when the key is missing), its SQL value
 * (booleans read as 1/0) and its JSON text, each with the bindings it needs.
 */
interface ValueAccess {
  type: SqlFragment;
  value: SqlFragment;
  json: SqlFragment;
}

/**
 * Keys that a quoted JSON path label (`$."key"`) cannot express: SQLite ends the label at the
 * first `"` and reads `\` as an escape. Such keys go through `json_each` (slower, any key).
 */
function needsJsonEach(key: string): boolean {
  return /["\\\u0000-\u001f]/.test(key);
}

/** `type IS 'x'` / `type IN (...)`: never NULL (a missing key's NULL type is simply false). */
function typeClause(type: string, types: readonly string[]): string {
  return types.length === 1 ? `${type} IS '${types[0]}'` : `coalesce(${type} IN ('${types.join("', '")}'), 0)`;
}

const NUMBER_TYPES = ["integer", "real"] as const;

function scalarTypes(value: Scalar): readonly string[] {
  if (typeof value === "string") return ["text"];
  if (typeof value === "number") return NUMBER_TYPES;
  return [value ? "true" : "false"];
}

/** Builds one fragment, pushing bindings in the order their SQL appears. */
class Builder {
  readonly params: SQLQueryBindings[] = [];
  use(fragment: SqlFragment): string {
    this.params.push(...fragment.params);
    return fragment.sql;
  }
  bind(value: SQLQueryBindings): string {
    this.params.push(value);
    return "?";
  }
}

/** The value equals `value`, typed (true ≠ 1 ≠ "1"; 1 = 1.0). */
function equals(b: Builder, access: ValueAccess, value: Scalar): string {
  if (typeof value === "boolean") return typeClause(b.use(access.type), scalarTypes(value));
  return `(${typeClause(b.use(access.type), scalarTypes(value))} AND ${b.use(access.value)} = ${b.bind(value)})`;
}

function oneOf(b: Builder, access: ValueAccess, values: Scalar[]): string {
  const strings = [...new Set(values.filter((v): v is string => typeof v === "string"))];
  const numbers = [...new Set(values.filter((v): v is number => typeof v === "number"))];
  const booleans = [...new Set(values.filter((v): v is boolean => typeof v === "boolean"))];
  const parts: string[] = [];
  for (const [list, types] of [
    [strings, ["text"]],
    [numbers, NUMBER_TYPES],
  ] as const) {
    if (list.length === 0) continue;
    parts.push(`(${typeClause(b.use(access.type), types)} AND ${b.use(access.value)} IN (SELECT value FROM json_each(${b.bind(JSON.stringify(list))})))`);
  }
  if (booleans.length > 0) parts.push(typeClause(b.use(access.type), booleans.map((v) => (v ? "true" : "false"))));
  return parts.length === 0 ? "0" : `(${parts.join(" OR ")})`;
}

const COMPARATORS = { gt: ">", gte: ">=", lt: "<", lte: "<=", eq: "=", ne: "<>" } as const;

/** The positive predicate of one metadata condition over a value read through `access` (never NULL). */
function predicate(c: Extract<FilterCondition, { kind: "metadata" }>, access: ValueAccess): SqlFragment {
  const b = new Builder();
  let sql: string;
  switch (c.op) {
    case "eq":
      sql = equals(b, access, c.value);
      break;
    case "ne":
      sql = `NOT (${equals(b, access, c.value)})`;
      break;
    case "in":
      sql = oneOf(b, access, c.values);
      break;
    case "nin":
      sql = `NOT (${oneOf(b, access, c.values)})`;
      break;
    case "exists":
      sql = `(${b.use(access.type)} IS ${c.value ? "NOT NULL" : "NULL"})`;
      break;
    case "contains": {
      // a string holding the substring (instr: case-sensitive, "" is in every string) ...
      const parts: string[] = [];
      if (typeof c.value === "string") {
        parts.push(`(${typeClause(b.use(access.type), ["text"])} AND instr(${b.use(access.value)}, ${b.bind(c.value)}) > 0)`);
      }
      // ... or an array holding the element
      const element: ValueAccess = {
        type: { sql: "el.type", params: [] },
        value: { sql: "el.atom", params: [] },
        json: { sql: "el.value", params: [] },
      };
      parts.push(
        `(${typeClause(b.use(access.type), ["array"])} AND EXISTS (SELECT 1 FROM json_each(${b.use(access.json)}) AS el WHERE ${equals(b, element, c.value)}))`,
      );
      sql = `(${parts.join(" OR ")})`;
      break;
    }
    default:
      // gt gte lt lte: a value of the bound's type (strings by code point: SQLite's BINARY
      // collation compares UTF-8 bytes, which orders as code points)
      sql = `(${typeClause(b.use(access.type), scalarTypes(c.value))} AND ${b.use(access.value)} ${COMPARATORS[c.op]} ${b.bind(c.value)})`;
  }
  return { sql, params: b.params };
}

function metadataCondition(c: Extract<FilterCondition, { kind: "metadata" }>, metadataColumn: string): SqlFragment {
  if (needsJsonEach(c.key)) {
    // The key's entry, if any, read through json_each; a missing key reads as NULL type, as below.
    const entry = (column: string) => ({
      sql: `(SELECT je.${column} FROM json_each(${metadataColumn}) AS je WHERE je.key = ?)`,
      params: [c.key],
    });
    return predicate(c, { type: entry("type"), value: entry("atom"), json: entry("value") });
  }
  // The path is a bound parameter, so no key can reach the SQL text.
  const path = `$."${c.key}"`;
  return predicate(c, {
    type: { sql: `json_type(${metadataColumn}, ?)`, params: [path] },
    value: { sql: `json_extract(${metadataColumn}, ?)`, params: [path] },
    json: { sql: `json_extract(${metadataColumn}, ?)`, params: [path] },
  });
}

/** ISO-8601 in the stored form (`Date#toISOString`), so timestamps compare as text. */
export function normaliseTimestamp(value: string, field: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new RangeError(`${field} is not an ISO-8601 timestamp: ${value}`);
  return new Date(time).toISOString();
}

function node(n: FilterNode, alias: string): SqlFragment {
  switch (n.kind) {
    case "and":
    case "or": {
      if (n.nodes.length === 0) return { sql: n.kind === "and" ? "1" : "0", params: [] };
      const parts = n.nodes.map((child) => node(child, alias));
      return { sql: `(${parts.map((p) => p.sql).join(n.kind === "and" ? " AND " : " OR ")})`, params: parts.flatMap((p) => p.params) };
    }
    case "not": {
      const inner = node(n.node, alias);
      return { sql: `NOT (${inner.sql})`, params: inner.params };
    }
    case "created_at":
    case "updated_at":
      return { sql: `(${alias}.${n.kind} ${COMPARATORS[n.op]} ?)`, params: [normaliseTimestamp(n.value, n.kind)] };
    case "metadata":
      return metadataCondition(n, `${alias}.metadata`);
  }
}

/**
 * Compiles a filter into a WHERE fragment over the memories table aliased `alias` ("1" when it
 * constrains nothing). Every predicate is two-valued (never NULL), so NOT is the exact complement.
 * Every value and key is bound, never spliced.
 */
export function compileFilter(filter: SearchFilter | undefined, alias = "m"): SqlFragment {
  if (filter === undefined || isMatchAll(filter)) return { sql: "1", params: [] };
  return node(filter, alias);
}
