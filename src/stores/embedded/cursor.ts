import { InvalidCursorError } from "../ports.ts";
import { decodeSeqCursor, encodeSeqCursor } from "../seq-cursor.ts";

const TAG = "sq1";

/** An opaque, URL-safe cursor for the position after `seq`. */
export const encodeCursor = (seq: number): string => encodeSeqCursor(TAG, seq);

/** The `seq` a cursor from `encodeCursor` holds; anything else is an InvalidCursorError. */
export function decodeCursor(cursor: string): number {
  const seq = Number(decodeSeqCursor(TAG, cursor, 16));
  if (!Number.isSafeInteger(seq)) throw new InvalidCursorError();
  return seq;
}
