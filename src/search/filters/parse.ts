import type { Scalar } from "../../domain/memory";
import { type FilterNode, MATCH_ALL, type RangeOp, type SearchFilter, type TimestampField } from "../../domain/search";
import { InvalidInputError } from "../../domain/errors";
import { ISO_DATE_PATTERN, MAX_FILTER_CONDITIONS, MAX_FILTER_DEPTH, MAX_IN_VALUES, METADATA_KEY_PATTERN } from "./schema";

/**
 * Parses a filter (the form of schema.ts) into a FilterNode. The route validates `filters`
 * loosely and this checks it by hand, so that every message names the exact path of what is
 * wrong: `filters.$or[1].metadata.tag.$in[0]`.
 */

const KEY_PATTERN = new RegExp(METADATA_KEY_PATTERN);
const DATE_PATTERN = new RegExp(ISO_DATE_PATTERN);
const FILTER_PARTS = ["metadata", "created_at", "updated_at", "created_after", "created_before", "$and", "$or", "$not"];
const METADATA_OPERATORS = ["$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$exists", "$contains"] as const;
const TIMESTAMP_OPERATORS = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"] as const;
const RANGE_OPS: Record<string, RangeOp> = { $gt: "gt", $gte: "gte", $lt: "lt", $lte: "lte" };
const LOWER = ["$gt", "$gte"];

const isScalar = (v: unknown): v is Scalar =>
  typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Conditions counted so far in one filter (bounded by MAX_FILTER_CONDITIONS over every level). */
interface Budget {
  root: string;
  conditions: number;
}

/**
 * `raw` as a filter; `root` names it in messages (`filters` in a search body, `filter` in a
 * list query). Absent (undefined or null) is the filter that constrains nothing.
 */
export function parseFilters(raw: unknown, root = "filters"): SearchFilter {
  if (raw === undefined || raw === null) return MATCH_ALL;
  return parseFilterObject(raw, root, 0, { root, conditions: 0 });
}

function both(nodes: FilterNode[]): FilterNode {
  return nodes.length === 1 ? nodes[0]! : { kind: "and", nodes };
}

function count(budget: Budget, path: string): void {
  budget.conditions++;
  if (budget.conditions > MAX_FILTER_CONDITIONS) {
    throw new InvalidInputError(budget.root, `holds more than ${MAX_FILTER_CONDITIONS} conditions (over all its levels); the condition at ${path} is one too many`);
  }
}

function parseFilterObject(raw: unknown, path: string, depth: number, budget: Budget): FilterNode {
  if (!isPlainObject(raw)) throw new InvalidInputError(path, "must be an object");
  const nodes: FilterNode[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const field = `${path}.${name}`;
    switch (name) {
      case "metadata":
        nodes.push(...parseMetadata(value, field, budget));
        break;
      case "created_at":
      case "updated_at":
        count(budget, field);
        nodes.push(parseTimestampCondition(name, value, field));
        break;
      case "created_after":
      case "created_before":
        count(budget, field);
        nodes.push({ kind: "created_at", op: name === "created_after" ? "gt" : "lt", value: parseTimestamp(field, value) });
        break;
      case "$and":
      case "$or": {
        nested(field, depth);
        if (!Array.isArray(value) || value.length === 0 || value.length > MAX_FILTER_CONDITIONS) {
          throw new InvalidInputError(field, `must be an array of 1-${MAX_FILTER_CONDITIONS} filters`);
        }
        const children = value.map((child, i) => parseFilterObject(child, `${field}[${i}]`, depth + 1, budget));
        nodes.push({ kind: name === "$and" ? "and" : "or", nodes: children });
        break;
      }
      case "$not":
        nested(field, depth);
        nodes.push({ kind: "not", node: parseFilterObject(value, field, depth + 1, budget) });
        break;
      default:
        throw new InvalidInputError(field, `unknown filter (allowed: ${FILTER_PARTS.join(", ")})`);
    }
  }
  return both(nodes);
}

function nested(field: string, depth: number): void {
  if (depth >= MAX_FILTER_DEPTH) {
    throw new InvalidInputError(field, `nests too deep: at most ${MAX_FILTER_DEPTH} levels of $and / $or / $not`);
  }
}

const ISO_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$/;

/** An ISO_DATE_PATTERN string as an instant: UTC unless it has an offset (Date.parse would take local time). */
function parseTimestamp(field: string, value: unknown): string {
  const m = typeof value === "string" && DATE_PATTERN.test(value) ? ISO_DATE.exec(value) : null;
  if (!m) throw new InvalidInputError(field, "must be an ISO-8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T09:30:00Z");
  const [, y, mo, d, h = "0", mi = "0", sec = "0", frac = "", zone = "Z"] = m;
  const offsetMinutes = zone === "Z" ? 0 : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), Number(frac.padEnd(3, "0").slice(0, 3)));
  // Date.UTC maps years 0-99 to 1900-1999; the year is the year written
  const date = new Date(ms - offsetMinutes * 60_000);
  if (Number(y) < 100) date.setUTCFullYear(date.getUTCFullYear() - 1900);
  return date.toISOString();
}

/** The operators of an operator object, checked: known, at least one, and one or a lower + an upper bound. */
function operatorsOf(condition: Record<string, unknown>, field: string, allowed: readonly string[]): string[] {
  const ops = Object.keys(condition);
  for (const op of ops) {
    if (!allowed.includes(op)) throw new InvalidInputError(`${field}.${op}`, `unknown operator (allowed: ${allowed.join(", ")})`);
  }
  if (ops.length === 0) throw new InvalidInputError(field, "operator object is empty");
  if (ops.length > 1) {
    const isBoundPair = ops.length === 2 && ops.every((op) => op in RANGE_OPS) && LOWER.includes(ops[0]!) !== LOWER.includes(ops[1]!);
    if (!isBoundPair) {
      throw new InvalidInputError(field, `give one operator, or a lower bound ($gt or $gte) with an upper bound ($lt or $lte); got ${ops.join(", ")}`);
    }
  }
  return ops;
}

function parseTimestampCondition(name: TimestampField, condition: unknown, field: string): FilterNode {
  if (typeof condition === "string") return { kind: name, op: "eq", value: parseTimestamp(field, condition) };
  if (!isPlainObject(condition)) {
    throw new InvalidInputError(field, "must be an ISO-8601 date or date-time, or an operator object ($eq, $ne, $gt, $gte, $lt, $lte)");
  }
  const ops = operatorsOf(condition, field, TIMESTAMP_OPERATORS);
  return both(
    ops.map((op) => ({
      kind: name,
      op: op === "$eq" ? "eq" : op === "$ne" ? "ne" : RANGE_OPS[op]!,
      value: parseTimestamp(`${field}.${op}`, condition[op]),
    })),
  );
}

function parseMetadata(raw: unknown, field: string, budget: Budget): FilterNode[] {
  if (!isPlainObject(raw)) throw new InvalidInputError(field, "must be an object of key: condition");
  const entries = Object.entries(raw);
  if (entries.length > MAX_FILTER_CONDITIONS) throw new InvalidInputError(field, `at most ${MAX_FILTER_CONDITIONS} conditions`);
  return entries.map(([key, condition]) => {
    const path = `${field}.${key}`;
    count(budget, path);
    return parseCondition(key, condition, path);
  });
}

function scalarOperand(field: string, value: unknown, hint = ""): Scalar {
  if (!isScalar(value)) throw new InvalidInputError(field, `must be a string, number or boolean${hint}`);
  return value;
}

function parseCondition(key: string, condition: unknown, field: string): FilterNode {
  if (!KEY_PATTERN.test(key)) {
    throw new InvalidInputError(field, "metadata keys are 1-64 characters of letters, digits, _ . -");
  }
  if (isScalar(condition)) return { kind: "metadata", key, op: "eq", value: condition };
  if (!isPlainObject(condition)) {
    const hint = condition === null ? " (no value equals null: use {\"$exists\": false} for a missing key)" : "";
    throw new InvalidInputError(field, `must be a string, number, boolean, or an operator object (${METADATA_OPERATORS.join(", ")})${hint}`);
  }
  const ops = operatorsOf(condition, field, METADATA_OPERATORS);
  const op = ops[0]!;
  const operand = condition[op];
  const at = `${field}.${op}`;
  switch (op) {
    case "$eq":
    case "$ne":
    case "$contains":
      return { kind: "metadata", key, op: op === "$eq" ? "eq" : op === "$ne" ? "ne" : "contains", value: scalarOperand(at, operand, op === "$contains" ? "" : " (no value equals null: use $exists)") };
    case "$in":
    case "$nin": {
      if (!Array.isArray(operand) || operand.length === 0 || operand.length > MAX_IN_VALUES) {
        throw new InvalidInputError(at, `must be an array of 1-${MAX_IN_VALUES} strings, numbers or booleans`);
      }
      const values = operand.map((v, i) => scalarOperand(`${at}[${i}]`, v));
      return { kind: "metadata", key, op: op === "$in" ? "in" : "nin", values };
    }
    case "$exists":
      if (typeof operand !== "boolean") throw new InvalidInputError(at, "must be true or false");
      return { kind: "metadata", key, op: "exists", value: operand };
    default: {
      // one bound, or a lower and an upper bound of the same type
      const bounds = ops.map((o) => {
        const bound = condition[o];
        if (!(typeof bound === "string" || (typeof bound === "number" && Number.isFinite(bound)))) {
          throw new InvalidInputError(`${field}.${o}`, "must be a number or a string");
        }
        return { kind: "metadata" as const, key, op: RANGE_OPS[o]!, value: bound };
      });
      if (bounds.length === 2 && typeof bounds[0]!.value !== typeof bounds[1]!.value) {
        throw new InvalidInputError(field, `${ops[0]} and ${ops[1]} must have the same type`);
      }
      return both(bounds);
    }
  }
}
