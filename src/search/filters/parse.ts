import type { Scalar } from "../../domain/memory";
import type { MetadataCondition, SearchFilter } from "../../domain/search";
import { InvalidInputError } from "../../domain/errors";
import { ISO_DATE_PATTERN, MAX_FILTER_CONDITIONS, MAX_IN_VALUES, METADATA_KEY_PATTERN } from "./schema";

/**
 * Parses the `filters` of a search request into a SearchFilter. The operator language is
 * open-ended (any metadata key, operator objects as values), so it is parsed here rather than
 * in the t schema, to give messages that name the exact key and operator.
 */

const KEY_PATTERN = new RegExp(METADATA_KEY_PATTERN);
const OPERATORS = ["$in", "$gte", "$lte"] as const;

const isScalar = (v: unknown): v is Scalar =>
  typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export const EMPTY_FILTER: SearchFilter = { metadata: [] };

export function parseFilters(raw: unknown): SearchFilter {
  if (raw === undefined || raw === null) return EMPTY_FILTER;
  if (!isPlainObject(raw)) throw new InvalidInputError("filters", "must be an object");
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
        throw new InvalidInputError(`filters.${name}`, "unknown filter (allowed: metadata, created_after, created_before)");
    }
  }
  return filter;
}

const ISO_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$/;

/** An ISO_DATE_PATTERN string as an instant: UTC unless it has an offset (Date.parse would take local time). */
function parseTimestamp(field: string, value: unknown): string {
  const m = typeof value === "string" && new RegExp(ISO_DATE_PATTERN).test(value) ? ISO_DATE.exec(value) : null;
  if (!m) throw new InvalidInputError(field, "must be an ISO-8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T09:30:00Z");
  const [, y, mo, d, h = "0", mi = "0", sec = "0", frac = "", zone = "Z"] = m;
  const offsetMinutes = zone === "Z" ? 0 : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), Number(frac.padEnd(3, "0").slice(0, 3)));
  // Date.UTC maps years 0-99 to 1900-1999; the year is the year written
  const date = new Date(ms - offsetMinutes * 60_000);
  if (Number(y) < 100) date.setUTCFullYear(date.getUTCFullYear() - 1900);
  return date.toISOString();
}

function parseMetadata(raw: unknown): MetadataCondition[] {
  if (!isPlainObject(raw)) throw new InvalidInputError("filters.metadata", "must be an object of key: condition");
  const entries = Object.entries(raw);
  if (entries.length > MAX_FILTER_CONDITIONS) {
    throw new InvalidInputError("filters.metadata", `at most ${MAX_FILTER_CONDITIONS} conditions`);
  }
  return entries.map(([key, condition]) => parseCondition(key, condition));
}

function parseCondition(key: string, condition: unknown): MetadataCondition {
  const field = `filters.metadata.${key}`;
  if (!KEY_PATTERN.test(key)) {
    throw new InvalidInputError(field, "metadata keys are 1-64 characters of letters, digits, _ . -");
  }
  if (isScalar(condition)) return { key, op: "eq", value: condition };
  if (!isPlainObject(condition)) {
    throw new InvalidInputError(field, "must be a string, number, boolean, or an operator object ($in, $gte, $lte)");
  }
  const ops = Object.keys(condition);
  for (const op of ops) {
    if (!(OPERATORS as readonly string[]).includes(op)) {
      throw new InvalidInputError(`${field}.${op}`, `unknown operator (allowed: ${OPERATORS.join(", ")})`);
    }
  }
  if (ops.length === 0) throw new InvalidInputError(field, "operator object is empty");
  if ("$in" in condition) {
    if (ops.length > 1) throw new InvalidInputError(field, "$in cannot be combined with other operators");
    const values = condition.$in;
    if (!Array.isArray(values) || values.length === 0 || values.length > MAX_IN_VALUES) {
      throw new InvalidInputError(`${field}.$in`, `must be an array of 1-${MAX_IN_VALUES} strings, numbers or booleans`);
    }
    values.forEach((v, i) => {
      if (!isScalar(v)) throw new InvalidInputError(`${field}.$in[${i}]`, "must be a string, number or boolean");
    });
    return { key, op: "in", values: values as Scalar[] };
  }
  const range: { key: string; op: "range"; gte?: Scalar; lte?: Scalar } = { key, op: "range" };
  for (const op of ["$gte", "$lte"] as const) {
    if (!(op in condition)) continue;
    const bound = condition[op];
    if (!(typeof bound === "string" || (typeof bound === "number" && Number.isFinite(bound)))) {
      throw new InvalidInputError(`${field}.${op}`, "must be a number or a string");
    }
    if (op === "$gte") range.gte = bound;
    else range.lte = bound;
  }
  if (range.gte !== undefined && range.lte !== undefined && typeof range.gte !== typeof range.lte) {
    throw new InvalidInputError(field, "$gte and $lte must have the same type");
  }
  return range;
}
