import { InvalidCursorError } from "./ports.ts";

/**
 * Opaque, URL-safe pagination cursors holding a position (`seq`, a non-negative integer) under
 * an adapter's scheme tag, so a cursor of another scheme or adapter is rejected, not misread.
 */
export function encodeSeqCursor(tag: string, seq: number | string): string {
  return Buffer.from(`${tag}:${seq}`, "utf8").toString("base64url");
}

/** The `seq` (decimal text, at most `maxDigits` digits) of a cursor; else InvalidCursorError. */
export function decodeSeqCursor(tag: string, cursor: string, maxDigits: number): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) throw new InvalidCursorError();
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const prefix = `${tag}:`;
  const digits = text.startsWith(prefix) ? text.slice(prefix.length) : "";
  if (!new RegExp(`^(0|[1-9][0-9]{0,${maxDigits - 1}})$`).test(digits)) throw new InvalidCursorError();
  return digits;
}
