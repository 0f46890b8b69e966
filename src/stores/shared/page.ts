import type { Page } from "../../domain/memory.ts";

/**
 * A page from rows read with `LIMIT limit + 1`, in `seq` order: the extra row only says that
 * there is more, and the cursor names the last row kept.
 */
export function pageOfRows<R extends { seq: number | string }, T>(
  rows: R[],
  limit: number,
  present: (row: R) => T,
  encodeCursor: (seq: R["seq"]) => string,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(present), next_cursor: more && last !== undefined ? encodeCursor(last.seq) : null };
}
