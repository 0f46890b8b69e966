import { InvalidCursorError } from "../ports.ts";

// The scheme tag: a cursor of another scheme (or another adapter) is rejected, not misread.
const PREFIX = "sq1:";

/** An opaque, URL-safe cursor for the position after `seq`. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`${PREFIX}${seq}`, "utf8").toString("base64url");
}

/** The `seq` a cursor from `encodeCursor` holds; anything else is an InvalidCursorError. */
export function decodeCursor(cursor: string): number {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) throw new InvalidCursorError();
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^sq1:(0|[1-9][0-9]{0,15})$/.exec(text);
  if (match === null) throw new InvalidCursorError();
  const seq = Number(match[1]);
  if (!Number.isSafeInteger(seq)) throw new InvalidCursorError();
  return seq;
}
