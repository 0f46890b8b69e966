import { decodeSeqCursor, encodeSeqCursor } from "../../domain/seq-cursor.ts";

/** The cursor for the position after `seq` (a bigint, as text). */
export const encodeCursor = (seq: string): string => encodeSeqCursor(seq);

/** The `seq` (decimal text, within bigint) a cursor holds; else an InvalidCursorError. */
export const decodeCursor = (cursor: string): string => decodeSeqCursor(cursor);
