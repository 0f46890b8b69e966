import { InvalidCursorError } from "../ports.ts";

// The scheme tag: a cursor of another scheme (or another adapter) is rejected, not misread.
const PREFIX = "pg1:";
const MAX_BIGINT = 9223372036854775807n;

/** An opaque, URL-safe cursor for the position after `seq` (a bigint, as text). */
export function encodeCursor(seq: string): string {
  return Buffer.from(`${PREFIX}${seq}`, "utf8").toString("base64url");
}

/** The `seq` (decimal text) a cursor from `encodeCursor` holds; anything else is an InvalidCursorError. */
export function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) throw new InvalidCursorError();
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^pg1:(0|[1-9][0-9]{0,18})$/.exec(text);
  if (match === null || BigInt(match[1]!) > MAX_BIGINT) throw new InvalidCursorError();
  return match[1]!;
}
