import type { MetadataCondition, Scalar, SearchFilter } from "../stores/ports";
import { invalidField } from "../http/problem";

/**
 * Parses the `filters` of a search request into a SearchFilter. The operator language is
 * open-ended (any metadata key, operator objects as values), so it is parsed here rather than
 * in the t schema, to give messages that name the exact key and operator.
 */

const KEY_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$/;
const MAX_CONDITIONS = 32;
const MAX_IN_VALUES = 256;
const OPERATORS = ["$in", "$gte", "$lte"] as const;

const isScalar = (v: unknown): v is Scalar =>
  typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export const EMPTY_FILTER: SearchFilter = { metadata: [] };

export function parseFilters(raw: unknown): SearchFilter {
  if (raw === undefined || raw === null) return EMPTY_FILTER;
  if (!isPlainObject(raw)) throw invalidField("filters", "must be an object");
  const filter: SearchFilter = { metadata: [] };
  for (const [name, value] of Object.entries(raw)) {
    switch (name) {
      case "metadata":
        filter.metadata = parseMetadata(value);
        break;
      case "created_after":
      case "created_before": {
        const iso = parseTimestamp(`filters.${name}`, value);
        if (name === "created_after") filter.createdAfter = iso;
        else filter.createdBefore = iso;
        break;
      }
      default:
        throw invalidField(`filters.${name}`, "unknown filter (allowed: metadata, created_after, created_before)");
    }
  }
  return filter;
}

function parseTimestamp(field: string, value: unknown): string {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw invalidField(field, "must be an ISO-8601 date-time string");
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalidField(field, "must be an ISO-8601 date-time string");
  return new Date(ms).toISOString();
}

function parseMetadata(raw: unknown): MetadataCondition[] {
  if (!isPlainObject(raw)) throw invalidField("filters.metadata", "must be an object of key: condition");
  const entries = Object.entries(raw);
  if (entries.length > MAX_CONDITIONS) {
    throw invalidField("filters.metadata", `at most ${MAX_CONDITIONS} conditions`);
  }
  return entries.map(([key, condition]) => parseCondition(key, condition));
}

function parseCondition(key: string, condition: unknown): MetadataCondition {
  const field = `filters.metadata.${key}`;
  if (!KEY_PATTERN.test(key)) {
    throw invalidField(field, "metadata keys are 1-64 characters of letters, digits, _ . -");
  }
  if (isScalar(condition)) return { key, op: "eq", value: condition };
  if (!isPlainObject(condition)) {
    throw invalidField(field, "must be a string, number, boolean, or an operator object ($in, $gte, $lte)");
  }
  const ops = Object.keys(condition);
  for (const op of ops) {
    if (!(OPERATORS as readonly string[]).includes(op)) {
      throw invalidField(`${field}.${op}`, `unknown operator (allowed: ${OPERATORS.join(", ")})`);
    }
  }
  if (ops.length === 0) throw invalidField(field, "operator object is empty");
  if ("$in" in condition) {
    if (ops.length > 1) throw invalidField(field, "$in cannot be combined with other operators");
    const values = condition.$in;
    if (!Array.isArray(values) || values.length === 0 || values.length > MAX_IN_VALUES) {
      throw invalidField(`${field}.$in`, `must be an array of 1-${MAX_IN_VALUES} strings, numbers or booleans`);
    }
    values.forEach((v, i) => {
      if (!isScalar(v)) throw invalidField(`${field}.$in[${i}]`, "must be a string, number or boolean");
    });
    return { key, op: "in", values: values as Scalar[] };
  }
  const range: { key: string; op: "range"; gte?: Scalar; lte?: Scalar } = { key, op: "range" };
  for (const op of ["$gte", "$lte"] as const) {
    if (!(op in condition)) continue;
    const bound = condition[op];
    if (!(typeof bound === "string" || (typeof bound === "number" && Number.isFinite(bound)))) {
      throw invalidField(`${field}.${op}`, "must be a number or a string");
    }
    if (op === "$gte") range.gte = bound;
    else range.lte = bound;
  }
  if (range.gte !== undefined && range.lte !== undefined && typeof range.gte !== typeof range.lte) {
    throw invalidField(field, "$gte and $lte must have the same type");
  }
  return range;
}
