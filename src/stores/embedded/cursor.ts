import { decodeSeqCursor, encodeSeqCursor } from "../../domain/seq-cursor.ts";

/** The cursor for the position after `seq`. */
export const encodeCursor = (seq: number): string => encodeSeqCursor(seq);

/** The `seq` a cursor holds (16 digits at most: always a safe integer); else an InvalidCursorError. */
export const decodeCursor = (cursor: string): number => Number(decodeSeqCursor(cursor));
