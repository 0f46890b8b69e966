import { InvalidCursorError } from "../ports.ts";
import { decodeSeqCursor, encodeSeqCursor } from "../seq-cursor.ts";

const TAG = "pg1";
const MAX_BIGINT = 9223372036854775807n;

/** An opaque, URL-safe cursor for the position after `seq` (a bigint, as text). */
export const encodeCursor = (seq: string): string => encodeSeqCursor(TAG, seq);

/** The `seq` (decimal text) a cursor from `encodeCursor` holds; anything else is an InvalidCursorError. */
export function decodeCursor(cursor: string): string {
  const seq = decodeSeqCursor(TAG, cursor, 19);
  if (BigInt(seq) > MAX_BIGINT) throw new InvalidCursorError();
  return seq;
}
