/**
 * Literals of the Milvus 2.3 boolean-expression language. Every user value reaches an
 * expression only through these functions, so no value can end its literal or add syntax.
 */

/**
 * A double-quoted string literal. Milvus reads it with Go's `strconv.Unquote`, so `"` and `\`
 * are backslash-escaped and every character outside printable ASCII is written as `\uXXXX`
 * (BMP) or `\UXXXXXXXX` (astral): the literal is plain printable ASCII, whatever the value.
 * Throws a RangeError on a lone surrogate (not Unicode text; callers decide what it means).
 */
export function stringLiteral(value: string): string {
  if (!value.isWellFormed()) throw new RangeError("a string with a lone surrogate has no Milvus literal");
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (cp >= 0x20 && cp <= 0x7e) out += ch;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

/**
 * A floating-point literal for a finite number (`3` → `3.0`, `1e21` → `1e+21`, `-0` → `0.0`).
 * Always a float: Milvus 2.3 fails on an `in` list mixing integer and float literals (an
 * assertion in the query node) and cannot parse an integer literal beyond int64, while a float
 * literal compares correctly with JSON integers and floats alike.
 */
export function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`${value} has no Milvus literal`);
  const text = String(value === 0 ? 0 : value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** An Int64 literal (timestamps in ms). */
export function integerLiteral(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${value} is not a safe integer`);
  return String(value);
}
