import { t } from "elysia";
import type { Collection } from "../domain/collection";
import { invalidField } from "../http/problem";
import { PageSizeParam } from "../http/query-params";

/**
 * GET /v1/collections a page at a time (issue 18: a tenant's whole list in one answer could
 * reach ~80 MB), in creation order, collections created in the same millisecond by id: a total
 * order, so the cursor (the last collection's creation time and id, opaque to clients) finds
 * its place even when that collection was deleted in between. Quotas bound a tenant's
 * collections, so the page is cut from the owner's list.
 */
export const ListCollectionsQuery = t.Object({
  limit: t.Optional(PageSizeParam),
  cursor: t.Optional(t.String({ maxLength: 512, pattern: "^[A-Za-z0-9_-]+$", description: "next_cursor of the previous page" })),
});

const encode = (c: Collection) => Buffer.from(JSON.stringify([String(c.created_at), c.id])).toString("base64url");

function decode(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "string")) return value as [string, string];
  } catch {
    // falls through
  }
  throw invalidField("query.cursor", "is not a cursor this API gave");
}

/** The page after `cursor` of `all` (in creation order), and the cursor of the next one (null at the end). */
const before = (a: readonly [string, string], b: readonly [string, string]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
const keyOf = (c: Collection) => [String(c.created_at), c.id] as const;

/** The page after `cursor` of `all`, and the cursor of the next one (null at the end). */
export function pageOf(all: Collection[], limit: number, cursor: string | undefined): { items: Collection[]; next_cursor: string | null } {
  const ordered = [...all].sort((a, b) => (before(keyOf(a), keyOf(b)) ? -1 : before(keyOf(b), keyOf(a)) ? 1 : 0));
  let start = 0;
  if (cursor !== undefined) {
    const after = decode(cursor);
    start = ordered.findIndex((c) => before(after, keyOf(c)));
    if (start < 0) start = ordered.length;
  }
  const items = ordered.slice(start, start + limit);
  const more = start + limit < ordered.length;
  return { items, next_cursor: more ? encode(items[items.length - 1]!) : null };
}
