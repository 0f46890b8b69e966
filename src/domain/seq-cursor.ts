import { InvalidCursorError } from "./errors.ts";

/**
 * Pagination cursors holding a position (`seq`, a non-negative integer): the position in
 * decimal. Clients treat it as opaque, but its form is documented (SEQ_CURSOR_PATTERN) and every
 * string of that form is a valid cursor (a position past the end is an empty page), so the
 * OpenAPI document promises exactly what the API accepts.
 */
export const SEQ_CURSOR_PATTERN = "^(?:0|[1-9][0-9]{0,15})$";
const SEQ_CURSOR = new RegExp(SEQ_CURSOR_PATTERN);

export function encodeSeqCursor(seq: number | string): string {
  return String(seq);
}

/** The `seq` (decimal text, at most 16 digits) of a cursor; else InvalidCursorError. */
export function decodeSeqCursor(cursor: string): string {
  if (!SEQ_CURSOR.test(cursor)) throw new InvalidCursorError();
  return cursor;
}
