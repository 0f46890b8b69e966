/**
 * The lines of an NDJSON import: each a memory as POST …/memories takes one, or as an export
 * writes it (created_at and updated_at are accepted and not applied; expires_at may be null).
 * Blank lines and an export's checkpoint lines are skipped; every other line is a memory, or a
 * failure naming its line number and what is wrong with it.
 */
import { t, type Static } from "elysia";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { InvalidInputError } from "../domain/errors";
import { fieldPath, findNul } from "../http/errors";
import { ProblemError } from "../http/problem";
import { expiryFields, expiryPatchFields } from "./expiry";
import { checkNewMemory, type CheckedMemory } from "./memory-writes";
import { NewMemory } from "./schemas";

const Timestamp = (what: string) =>
  t.String({ maxLength: 64, description: `as an export writes it; accepted and not applied (the import is a write: ${what} is its time)` });

export const ImportLineSchema = t.Object(
  {
    ...NewMemory.properties,
    expires_at: expiryPatchFields.expires_at,
    ttl_seconds: expiryFields.ttl_seconds,
    created_at: t.Optional(Timestamp("a new memory's created_at")),
    updated_at: t.Optional(Timestamp("updated_at")),
  },
  {
    additionalProperties: false,
    description:
      "one memory a line, as POST …/memories takes one or as GET …/export writes it (expires_at null: never); blank lines and export checkpoints are skipped",
  },
);

export type ImportLine = Static<typeof ImportLineSchema>;

const checkLine = TypeCompiler.Compile(ImportLineSchema);

export interface LineFailure {
  /** 1-based line number in the request body. */
  line: number;
  field?: string;
  detail: string;
}

export interface ParsedImport {
  memories: { line: number; memory: CheckedMemory }[];
  failures: LineFailure[];
  /** Lines in the body (a final newline ends the last one). */
  lines: number;
  /** Blank lines and export checkpoints. */
  skipped: number;
}

function failure(line: number, field: string | undefined, message: string): LineFailure {
  return { line, ...(field ? { field } : {}), detail: field ? `line ${line}: ${field}: ${message}` : `line ${line}: ${message}` };
}

/** One line's memory, or why it is not one; null for a line to skip. */
function parseLine(text: string, line: number, now: number): CheckedMemory | LineFailure | null {
  if (text.trim() === "") return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return failure(line, undefined, "is not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return failure(line, undefined, "must be a JSON object (one memory)");
  const record = value as Record<string, unknown>;
  if (!("content" in record)) {
    if ("next_cursor" in record) return null; // an export's checkpoint
    if ("error" in record) return failure(line, "error", "an export's error line: the export this file holds did not complete");
  }
  const nul = findNul(record, "");
  if (nul !== null) return failure(line, nul, "contains U+0000 (NUL), which cannot be stored");
  if (!checkLine.Check(record)) {
    const first = checkLine.Errors(record).First();
    return failure(line, fieldPath(first?.path ?? "") || undefined, first?.message ?? "is not a memory");
  }
  try {
    const { created_at: _c, updated_at: _u, ...item } = record as ImportLine;
    return checkNewMemory(item, now, "");
  } catch (error) {
    if (error instanceof InvalidInputError) return failure(line, error.field, error.reason);
    if (error instanceof ProblemError && error.extra.field) {
      const field = error.extra.field;
      return failure(line, field, error.detail.startsWith(`${field}: `) ? error.detail.slice(field.length + 2) : error.detail);
    }
    throw error;
  }
}

/** Every line of `body`, numbered from 1, checked as one memory each; `now` judges expiries. */
export function parseImport(body: string, now: number): ParsedImport {
  const parsed: ParsedImport = { memories: [], failures: [], lines: 0, skipped: 0 };
  let start = 0;
  while (start < body.length) {
    const end = body.indexOf("\n", start);
    const stop = end === -1 ? body.length : end;
    const text = body.slice(start, stop > start && body[stop - 1] === "\r" ? stop - 1 : stop);
    const line = ++parsed.lines;
    const result = parseLine(text, line, now);
    if (result === null) parsed.skipped++;
    else if ("content" in result) parsed.memories.push({ line, memory: result });
    else parsed.failures.push(result);
    start = stop + 1;
  }
  return parsed;
}
