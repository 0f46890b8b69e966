import type { SQLQueryBindings } from "bun:sqlite";
import type { Scalar } from "../../domain/memory.ts";
import type { MetadataCondition, SearchFilter } from "../../domain/search.ts";

/** A parameterised SQL boolean expression and its bindings, in order. */
export interface SqlFragment {
  sql: string;
  params: SQLQueryBindings[];
}

/** True when the filter constrains nothing (the vector index can then use its KNN). */
export function isEmptyFilter(filter: SearchFilter | undefined): boolean {
  return (
    filter === undefined ||
    ((filter.metadata ?? []).length === 0 &&
      filter.createdAfter === undefined &&
      filter.createdBefore === undefined)
  );
}

/**
 * How one metadata value is read: the SQL expressions of its JSON type name
 * ('text', 'integer', 'real', 'true', 'false', 'null', 'array', 'object') and its SQL value
 * (booleans read as 1/0), each with the bindings it needs.
 */
interface ValueAccess {
  type: SqlFragment;
  value: SqlFragment;
}

/**
 * Keys that a quoted JSON path label (`$."key"`) cannot express: SQLite ends the label at the
 * first `"` and reads `\` as an escape. Such keys go through `json_each` (slower, any key).
 */
function needsJsonEach(key: string): boolean {
  return /["\\\u0000-\u001f]/.test(key);
}

function typeClause(type: string, types: readonly string[]): string {
  return types.length === 1 ? `${type} = '${types[0]}'` : `${type} IN ('${types.join("', '")}')`;
}

const NUMBER_TYPES = ["integer", "real"] as const;

function scalarTypes(value: Scalar): readonly string[] {
  if (typeof value === "string") return ["text"];
  if (typeof value === "number") return NUMBER_TYPES;
  return ["true", "false"];
}

function scalarBinding(value: Scalar): SQLQueryBindings {
  return typeof value === "boolean" ? (value ? 1 : 0) : value;
}

/** The predicate of one condition over a value read through `access`. */
function predicate(condition: MetadataCondition, access: ValueAccess): SqlFragment {
  const params: SQLQueryBindings[] = [];
  const type = () => {
    params.push(...access.type.params);
    return access.type.sql;
  };
  const value = () => {
    params.push(...access.value.params);
    return access.value.sql;
  };

  switch (condition.op) {
    case "eq": {
      const v = condition.value;
      if (typeof v === "boolean") return { sql: typeClause(type(), [v ? "true" : "false"]), params };
      const sql = `(${typeClause(type(), scalarTypes(v))} AND ${value()} = ?)`;
      params.push(v);
      return { sql, params };
    }
    case "in": {
      const strings = condition.values.filter((v): v is string => typeof v === "string");
      const numbers = condition.values.filter(
        (v): v is number => typeof v === "number" && Number.isFinite(v),
      );
      const booleans = [...new Set(condition.values.filter((v) => typeof v === "boolean"))];
      const parts: string[] = [];
      if (strings.length > 0) {
        parts.push(`(${typeClause(type(), ["text"])} AND ${value()} IN (SELECT value FROM json_each(?)))`);
        params.push(JSON.stringify(strings));
      }
      if (numbers.length > 0) {
        parts.push(`(${typeClause(type(), NUMBER_TYPES)} AND ${value()} IN (SELECT value FROM json_each(?)))`);
        params.push(JSON.stringify(numbers));
      }
      if (booleans.length > 0) {
        parts.push(typeClause(type(), booleans.map((b) => (b ? "true" : "false"))));
      }
      return { sql: parts.length === 0 ? "0" : `(${parts.join(" OR ")})`, params };
    }
    case "range": {
      const bounds = (
        [
          [condition.gte, ">="],
          [condition.lte, "<="],
        ] as const
      ).filter((b): b is [Scalar, ">=" | "<="] => b[0] !== undefined);
      if (bounds.length === 0) return { sql: "1", params };
      if (bounds.every(([b]) => typeof b === typeof bounds[0]![0])) {
        // One type check for both bounds (params are pushed in SQL order).
        let sql = `(${typeClause(type(), scalarTypes(bounds[0]![0]))}`;
        for (const [bound, operator] of bounds) {
          sql += ` AND ${value()} ${operator} ?`;
          params.push(scalarBinding(bound));
        }
        return { sql: `${sql})`, params };
      }
      // Bounds of different kinds: each restricts the type (so nothing matches both).
      const parts: string[] = [];
      for (const [bound, operator] of bounds) {
        parts.push(`(${typeClause(type(), scalarTypes(bound))} AND ${value()} ${operator} ?)`);
        params.push(scalarBinding(bound));
      }
      return { sql: `(${parts.join(" AND ")})`, params };
    }
    default: {
      const unknown: never = condition;
      throw new TypeError(`unknown metadata operator in ${JSON.stringify(unknown)}`);
    }
  }
}

function metadataCondition(condition: MetadataCondition, metadataColumn: string): SqlFragment {
  const key = condition.key;
  if (needsJsonEach(key)) {
    const inner = predicate(condition, {
      type: { sql: "je.type", params: [] },
      value: { sql: "je.atom", params: [] },
    });
    return {
      sql: `EXISTS (SELECT 1 FROM json_each(${metadataColumn}) AS je WHERE je.key = ? AND ${inner.sql})`,
      params: [key, ...inner.params],
    };
  }
  // The path is a bound parameter, so no key can reach the SQL text.
  const path = `$."${key}"`;
  return predicate(condition, {
    type: { sql: `json_type(${metadataColumn}, ?)`, params: [path] },
    value: { sql: `json_extract(${metadataColumn}, ?)`, params: [path] },
  });
}

/** ISO-8601 in the stored form (`Date#toISOString`), so timestamps compare as text. */
export function normaliseTimestamp(value: string, field: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new RangeError(`${field} is not an ISO-8601 timestamp: ${value}`);
  return new Date(time).toISOString();
}

/**
 * Compiles a filter into a WHERE fragment over the memories table aliased `alias`
 * ("1" when it constrains nothing). Every value and key is bound, never spliced.
 */
export function compileFilter(filter: SearchFilter | undefined, alias = "m"): SqlFragment {
  if (filter === undefined) return { sql: "1", params: [] };
  const parts: string[] = [];
  const params: SQLQueryBindings[] = [];
  for (const condition of filter.metadata ?? []) {
    const fragment = metadataCondition(condition, `${alias}.metadata`);
    parts.push(fragment.sql);
    params.push(...fragment.params);
  }
  if (filter.createdAfter !== undefined) {
    parts.push(`${alias}.created_at > ?`);
    params.push(normaliseTimestamp(filter.createdAfter, "createdAfter"));
  }
  if (filter.createdBefore !== undefined) {
    parts.push(`${alias}.created_at < ?`);
    params.push(normaliseTimestamp(filter.createdBefore, "createdBefore"));
  }
  return { sql: parts.length === 0 ? "1" : parts.join(" AND "), params };
}
